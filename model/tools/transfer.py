"""Do Context Encoder features transfer? ``python -m model.tools.transfer`` (``ce-transfer``).

Fine-tunes or linearly probes the generator's encoder for image classification on a
labelled folder (one subfolder per class) and reports top-1 accuracy on a held-out split,
mean +- std over seeds, for several encoder sources side by side: ``random`` (DCGAN init),
or ``NAME=PATH`` generator exports (a context encoder, an autoencoder trained by the same
CLI with ``--mask none --adv 0``).

The held-out split is fixed (``labelled_split``, seed 0 by default) so pretext training can
exclude it (``model.tools.labelled.write_heldout_list`` + ``ce-train --exclude``); the seeds vary
the classifier's initialisation and data order.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from model.data import augment, cached_images, center_view, to_unit_range
from model.export import float32_state_dict, read_export
from model.networks import Encoder, GeneratorConfig, init_dcgan_
from model.tools.labelled import labelled_split

PROTOCOLS = ("linear", "finetune")


@dataclass(frozen=True)
class EncoderSource:
    """Where an encoder's initial weights come from (``path`` None = random)."""

    name: str
    path: Path | None = None


def parse_source(text: str) -> EncoderSource:
    if text == "random":
        return EncoderSource("random")
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"encoder source {text!r}: use 'random' or NAME=PATH")
    name, path = text.split("=", 1)
    return EncoderSource(name, Path(path))


def build_encoder(source: EncoderSource, seed: int) -> Encoder:
    """The encoder of a generator export, or a freshly DCGAN-initialised one."""
    if source.path is None:
        torch.manual_seed(seed)
        encoder = Encoder(GeneratorConfig().encoder_widths)
        init_dcgan_(encoder)
        return encoder
    payload = read_export(source.path)
    config = GeneratorConfig.from_dict(payload["config"])
    encoder = Encoder(config.encoder_widths)
    prefix = "encoder."
    state = {k[len(prefix) :]: v for k, v in float32_state_dict(payload).items() if k.startswith(prefix)}
    encoder.load_state_dict(state)
    return encoder


class Classifier(nn.Module):
    """Encoder -> global average pool -> standardised features -> linear layer.

    Standardising (batch norm without scale) puts every encoder's features on the same
    footing, so a random encoder's tiny activations are not penalised by the learning rate.
    """

    def __init__(self, encoder: Encoder, classes: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.norm = nn.BatchNorm1d(encoder.out_channels, affine=False)
        self.head = nn.Linear(encoder.out_channels, classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(self.encoder(x).mean(dim=(2, 3)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


@dataclass
class LabelledImages:
    pixels: torch.Tensor  # (N, S, S, 3) uint8
    labels: torch.Tensor  # (N,)


def load_split(
    root: Path, cache: Path, split_seed: int, test_fraction: float
) -> tuple[LabelledImages, LabelledImages, list[str]]:
    train, test, names = labelled_split(root, test_fraction, split_seed)

    def decode(items: list[tuple[Path, int]]) -> LabelledImages:
        decoded = cached_images([p for p, _ in items], cache)
        label_of = {str(p): y for p, y in items}
        labels = torch.tensor([label_of[f] for f in decoded.files])
        return LabelledImages(torch.from_numpy(np.array(decoded.pixels)), labels)

    return decode(train), decode(test), names


@torch.no_grad()
def recalibrate_batch_norm(
    encoder: Encoder, data: LabelledImages, size: int, batch: int = 64, batches: int = 16
) -> None:
    """Re-estimate the encoder's batch-norm statistics on the target images.

    A random encoder has none (its eval-mode activations shrink layer by layer to nothing)
    and a pretext encoder's were measured on masked inputs; every source gets the same
    treatment so only the learned weights differ.
    """
    bns = [m for m in encoder.modules() if isinstance(m, nn.BatchNorm2d)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None  # cumulative average over the calibration batches
    encoder.train()
    gen = torch.Generator().manual_seed(0)
    for _ in range(min(batches, max(1, len(data.labels) // batch))):
        idx = torch.randint(len(data.labels), (min(batch, len(data.labels)),), generator=gen)
        encoder(center_view(to_unit_range(data.pixels[idx]), size))
    for bn in bns:
        bn.momentum = 0.1


@torch.no_grad()
def accuracy(model: Classifier, data: LabelledImages, size: int, batch: int = 128) -> float:
    model.eval()
    correct = 0
    for i in range(0, len(data.labels), batch):
        x = center_view(to_unit_range(data.pixels[i : i + batch]), size)
        correct += int((model(x).argmax(1) == data.labels[i : i + batch]).sum())
    return correct / len(data.labels)


def fine_tune(
    model: Classifier, data: LabelledImages, epochs: int, batch: int, lr: float, size: int, seed: int
) -> None:
    """Every layer learns (augmented crops and flips), the encoder at a tenth of the head's rate."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    params = [{"params": model.encoder.parameters(), "lr": lr / 10}, {"params": model.head.parameters(), "lr": lr}]
    opt = torch.optim.Adam(params, weight_decay=1e-4)
    steps = max(1, epochs * len(data.labels) // batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    model.train()
    model.to(memory_format=torch.channels_last)  # ~1.5x faster convolutions on CPU (oneDNN)
    for _ in range(steps):
        idx = torch.randint(len(data.labels), (batch,), generator=gen)
        x = augment(to_unit_range(data.pixels[idx]), size, gen, min_scale=0.7)
        x = x.contiguous(memory_format=torch.channels_last)
        loss = F.cross_entropy(model(x), data.labels[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()


@torch.no_grad()
def frozen_features(encoder: Encoder, data: LabelledImages, size: int, batch: int = 128) -> torch.Tensor:
    """Globally pooled features of the frozen (eval-mode) encoder, original and mirrored view
    averaged: computed once per image, so a linear probe costs seconds, not an encoder pass
    per training step."""
    encoder.eval()
    out = []
    for i in range(0, len(data.labels), batch):
        x = center_view(to_unit_range(data.pixels[i : i + batch]), size)
        out.append((encoder(x).mean(dim=(2, 3)) + encoder(x.flip(3)).mean(dim=(2, 3))) / 2)
    return torch.cat(out)


def linear_probe(
    encoder: Encoder, train: LabelledImages, test: LabelledImages, classes: int, epochs: int, lr: float, size: int,
    seed: int,
) -> float:  # fmt: skip
    """Frozen encoder: standardised pooled features -> a linear classifier (full-batch Adam,
    weight decay); returns top-1 accuracy on ``test``."""
    torch.manual_seed(seed)
    x_train, x_test = frozen_features(encoder, train, size), frozen_features(encoder, test, size)
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    head = nn.Linear(x_train.shape[1], classes)
    opt = torch.optim.Adam(head.parameters(), lr=lr * 10, weight_decay=1e-3)
    for _ in range(max(100, epochs * 30)):
        loss = F.cross_entropy(head(x_train), train.labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        return float((head(x_test).argmax(1) == test.labels).float().mean())


def run(args: argparse.Namespace) -> dict:
    train, test, names = load_split(args.data, args.cache, args.split_seed, args.test_fraction)
    print(
        f"{args.data}: {len(names)} classes, {len(train.labels)} train / {len(test.labels)} held-out images",
        file=sys.stderr,
    )
    results: dict = {
        "data": str(args.data),
        "classes": len(names),
        "train_images": len(train.labels),
        "test_images": len(test.labels),
        "split_seed": args.split_seed,
        "epochs": args.epochs,
        "runs": [],
    }
    jobs = [(s, p, seed) for s in args.encoders for p in args.protocols for seed in args.seeds]
    for source, protocol, seed in tqdm(jobs, disable=args.no_progress, file=sys.stderr):
        start = time.perf_counter()
        encoder = build_encoder(source, seed)
        recalibrate_batch_norm(encoder, train, args.image_size)
        if protocol == "linear":
            acc = linear_probe(encoder, train, test, len(names), args.epochs, args.lr, args.image_size, seed)
        else:
            model = Classifier(encoder, len(names))
            fine_tune(model, train, args.epochs, args.batch_size, args.lr, args.image_size, seed)
            acc = accuracy(model, test, args.image_size)
        results["runs"].append({"encoder": source.name, "protocol": protocol, "seed": seed, "top1": acc,
                                "seconds": round(time.perf_counter() - start, 1)})  # fmt: skip
    results["summary"] = summarise(results["runs"])
    return results


def summarise(runs: list[dict]) -> list[dict]:
    rows = []
    for encoder in dict.fromkeys(r["encoder"] for r in runs):
        for protocol in dict.fromkeys(r["protocol"] for r in runs):
            accs = [r["top1"] for r in runs if r["encoder"] == encoder and r["protocol"] == protocol]
            if accs:
                std = statistics.stdev(accs) if len(accs) > 1 else 0.0
                rows.append({"encoder": encoder, "protocol": protocol, "mean": statistics.fmean(accs), "std": std,
                             "seeds": len(accs)})  # fmt: skip
    return rows


def markdown_table(summary: list[dict]) -> str:
    protocols = list(dict.fromkeys(r["protocol"] for r in summary))
    lines = ["| encoder | " + " | ".join(f"{p} top-1 (%)" for p in protocols) + " |",
             "|---|" + "---|" * len(protocols)]  # fmt: skip
    for encoder in dict.fromkeys(r["encoder"] for r in summary):
        cells = []
        for p in protocols:
            row = next((r for r in summary if r["encoder"] == encoder and r["protocol"] == p), None)
            cells.append(f"{100 * row['mean']:.1f} ± {100 * row['std']:.1f}" if row else "–")
        lines.append(f"| {encoder} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ce-transfer", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data", type=Path, required=True, help="labelled folder: one subfolder of images per class")
    p.add_argument("--encoders", type=parse_source, nargs="+", default=[parse_source("random")],
                   help="'random' and/or NAME=PATH generator exports whose encoder to transfer")  # fmt: skip
    p.add_argument("--protocols", nargs="+", choices=PROTOCOLS, default=list(PROTOCOLS))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3, help="head learning rate (fine-tuned encoder: lr / 10)")
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument("--test-fraction", type=float, default=0.2)
    p.add_argument(
        "--split-seed", type=int, default=0, help="fixes the held-out split (exclude it from pretext training)"
    )
    p.add_argument("--cache", type=Path, default=Path(".cache"), help="decoded-image cache folder")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--json", type=Path, default=None, help="write all runs and the summary here")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        results = run(args)
    except (ValueError, FileNotFoundError) as exc:
        raise SystemExit(f"error: {exc}") from exc
    print(markdown_table(results["summary"]))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
