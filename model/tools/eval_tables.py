"""The Markdown table of one evaluation, as ``ce-eval`` prints it and stores it in its JSON."""

from __future__ import annotations

from model.tools.eval_scores import Evaluation


def markdown_table(ev: Evaluation) -> str:
    """One table per (set, mask): rows = methods, L1/L2 in percent as in the paper."""
    lines = [
        f"### {ev.set_name} · {ev.mask} — {ev.images} images, hole {ev.hole_fraction:.1%} of pixels",
        "",
        "| method | L1 % ↓ | L2 % ↓ | PSNR dB ↑ | SSIM ↑ | sharpness |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, m in ev.methods.items():
        label = name if ev.kinds.get(name) == "model" else f"{name} (baseline)"
        lines.append(
            f"| {label} | {m['l1'] * 100:.2f} | {m['l2'] * 100:.2f} | {m['psnr']:.2f} | {m['ssim']:.3f} "
            f"| {m['sharpness']:.4f} |"
        )
    lines.append(f"| truth | – | – | – | – | {ev.truth_sharpness:.4f} |")
    return "\n".join(lines)
