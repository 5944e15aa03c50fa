"""The Markdown table of one evaluation, as ``ce-eval`` prints it and stores it in its JSON."""

from __future__ import annotations

import math

from model.eval.scores import Evaluation

REFERENCE_LABELS = {"blur1": "truth blurred σ=1"}


def _shown(value: float) -> str:
    """Two decimals, or a dash where there was nothing to measure (no patch in a thin hole)."""
    return f"{value:.2f}" if math.isfinite(value) else "–"


def row_label(name: str, kind: str | None) -> str:
    """Models by name; baselines and the truth-derived references marked as such."""
    if kind == "model":
        return name
    if kind == "reference":
        return f"{name} (reference: {REFERENCE_LABELS.get(name, 'from the truth')})"
    return f"{name} (baseline)"


def markdown_table(ev: Evaluation) -> str:
    """One table per (set, mask): rows = methods, L1/L2 in percent as in the paper; texture
    (1 = as detailed as the truth) and patch FD (0 = the truth's patch statistics) say how
    realistic the fill is where PSNR rewards a smooth average."""
    lines = [
        f"### {ev.set_name} · {ev.mask} — {ev.images} images, hole {ev.hole_fraction:.1%} of pixels, "
        f"{ev.patches} hole patches",
        "",
        "| method | L1 % ↓ | L2 % ↓ | PSNR dB ↑ | SSIM ↑ | sharpness | texture →1 | patch FD ↓ |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, m in ev.methods.items():
        lines.append(
            f"| {row_label(name, ev.kinds.get(name))} | {m['l1'] * 100:.2f} | {m['l2'] * 100:.2f} | {m['psnr']:.2f} "
            f"| {m['ssim']:.3f} | {m['sharpness']:.4f} | {_shown(m['texture'])} | {_shown(m['patch_fd'])} |"
        )
    lines.append(f"| truth | – | – | – | – | {ev.truth_sharpness:.4f} | 1.00 | 0.00 |")
    return "\n".join(lines)
