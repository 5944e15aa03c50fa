"""The Markdown table of one evaluation result, as ``ce-eval`` prints it and stores it in its JSON."""

from __future__ import annotations

from model.eval.schema import MethodKind, ProtocolResult

REFERENCE_LABELS = {"blur1": "truth blurred σ=1"}


def _shown(value: float | None, spec: str = ".2f", scale: float = 1.0) -> str:
    """The number in ``spec``, or a dash where there was nothing to measure (no patch in a thin hole)."""
    return "–" if value is None else f"{value * scale:{spec}}"


def row_label(name: str, kind: MethodKind | None) -> str:
    """Models by name; baselines and the truth-derived references marked as such."""
    if kind == "model":
        return name
    if kind == "reference":
        return f"{name} (reference: {REFERENCE_LABELS.get(name, 'from the truth')})"
    return f"{name} (baseline)"


def markdown_table(result: ProtocolResult) -> str:
    """One table per (set, mask): rows = methods, L1/L2 in percent as in the paper; texture
    (1 = as detailed as the truth), invented (0 = no detail added where the truth is flat) and
    patch FD (0 = the truth's patch statistics) say how realistic the fill is where PSNR
    rewards a smooth average."""
    lines = [
        f"### {result.set} · {result.mask} — {result.images} images, hole {_shown(result.hole_fraction, '.1%')} "
        f"of pixels, {result.patches} hole patches",
        "",
        "| method | L1 % ↓ | L2 % ↓ | PSNR dB ↑ | SSIM ↑ | sharpness | texture →1 | invented →0 | patch FD ↓ |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, m in result.methods.items():
        lines.append(
            f"| {row_label(name, result.kinds.get(name))} | {_shown(m.l1, '.2f', 100)} | {_shown(m.l2, '.2f', 100)} "
            f"| {_shown(m.psnr)} | {_shown(m.ssim, '.3f')} | {_shown(m.sharpness, '.4f')} | {_shown(m.texture)} "
            f"| {_shown(m.invented)} | {_shown(m.patch_fd)} |"
        )
    lines.append(f"| truth | – | – | – | – | {_shown(result.truth_sharpness, '.4f')} | 1.00 | 0.00 | 0.00 |")
    return "\n".join(lines)
