"""Generator and discriminator of the Context Encoder.

The generator is pool-free (strided convolutions only), squeezes the image into a 4x4x512
code, connects every location of each feature map to every other location with a
channel-wise fully-connected layer (no weights across maps, so m*n^4 instead of m^2*n^4
weights), mixes channels with a 1x1 convolution and decodes with five up-convolutions
(nearest upsampling then a 3x3 convolution) back to the full image.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

REFINE_WIDTH = 32  # channels of the full-resolution refinement (+8 % multiply-adds)


@dataclass(frozen=True)
class GeneratorConfig:
    """Shape of a generator; stored in every export so a file rebuilds its own network."""

    image_size: int = 128
    encoder_widths: tuple[int, ...] = (64, 64, 128, 256, 512)
    decoder_widths: tuple[int, ...] = (256, 128, 64, 64)
    # 3: the photo with its hole in the mean colour (the paper's input). 4: the photo with its
    # hole pre-filled by a classical filler, plus the hole mask, so the network can tell a hole
    # from a flat grey area. A refiner (model.refine) also reads its windows' further channels:
    # 5 with the detail hint, 8 with the hint and the mirror fill.
    in_channels: int = 3
    # predict a correction added to the pre-filled input instead of the whole image; the last
    # layer starts at zero, so an untrained network already returns the classical fill
    residual: bool = False
    # 1x1 projections of the encoder's 8-64 px feature maps added to the decoder at the same
    # scale (zero at initialisation): the 4x4 code carries what the hole should hold, the skips
    # carry the local detail a correction of a thin hole needs and a 4x4 code cannot
    skips: bool = False
    # two 3x3 convolutions at full resolution over the input and the decoder's output, added to
    # it (the last one zero at initialisation): every other layer ends at 64 px, so a pixel next
    # to the known ones is only ever a linear blend of 2 px features
    refine: bool = False
    # how the decoder doubles its maps before each 3x3 convolution. nearest (the paper's, and every
    # export before this field): each output pixel of a stage sees the small map through one of
    # four phase kernels, so an adversary can teach the stages a fixed pattern with the period of
    # the total upsampling (an 8 px grid at 128 px). bilinear: no phase to exploit.
    upsample: str = "nearest"
    # standard deviation of Gaussian noise added to the hole of the pre-filled input (4 channels):
    # a deterministic network has nothing to draw sand or foliage from but its context, and
    # paints streaks continuing it; noise gives an adversary a source of variation to shape
    hole_noise: float = 0.0
    # what every convolution reads beyond the map's edge. zeros (every export before this field):
    # the edge of a window is a step in each input channel, so a refiner whose window lies inside
    # a big hole can anchor a pattern to its own frame (it drew rings a few px inside it).
    # reflect: the frame looks like more of the same content, as it is on the photo
    padding: str = "zeros"
    # average the 4x4 code over its positions before decoding (one vector per map): a refiner
    # paints texture, which should not depend on where in its window a pixel lies, and with the
    # full code a refiner told its windows' positions apart and drew the same arcs in each one
    pooled_code: bool = False

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict) -> GeneratorConfig:
        return cls(
            image_size=int(data["image_size"]),
            encoder_widths=tuple(int(w) for w in data["encoder_widths"]),
            decoder_widths=tuple(int(w) for w in data["decoder_widths"]),
            # exports written before these fields existed are the paper's 3-channel generator
            in_channels=int(data.get("in_channels", 3)),
            residual=bool(data.get("residual", False)),
            skips=bool(data.get("skips", False)),
            refine=bool(data.get("refine", False)),
            upsample=str(data.get("upsample", "nearest")),
            hole_noise=float(data.get("hole_noise", 0.0)),
            padding=str(data.get("padding", "zeros")),
            pooled_code=bool(data.get("pooled_code", False)),
        )

    @property
    def bottleneck_size(self) -> int:
        return self.image_size // 2 ** len(self.encoder_widths)


class ChannelWiseFC(nn.Module):
    """A fully-connected layer per feature map: each of the m maps of n x n gets its own
    n^2 x n^2 weight matrix (m*n^4 weights), with no weights between maps.

    This is what lets a 4x4 code reason about the whole image without the m^2*n^4 cost of
    a full fully-connected layer; the original Lua code and its PyTorch port omit it.
    """

    def __init__(self, channels: int, size: int) -> None:
        super().__init__()
        self.channels = channels
        self.size = size
        self.weight = nn.Parameter(torch.empty(channels, size * size, size * size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Same fan-in scaling as nn.Linear, applied to each map's own matrix.
        bound = 1.0 / math.sqrt(self.size * self.size)
        nn.init.uniform_(self.weight, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        if c != self.channels or h != self.size or w != self.size:
            raise ValueError(f"expected (B, {self.channels}, {self.size}, {self.size}), got {tuple(x.shape)}")
        # (C, B, HW) @ (C, HW, HW) -> (C, B, HW): one batched matmul, one matrix per map. Made
        # contiguous first: on a strided view bmm copies each of the C matrices apart (9x slower).
        flat = x.reshape(b, c, h * w).transpose(0, 1).contiguous()
        out = torch.bmm(flat, self.weight.to(flat.dtype))
        return out.transpose(0, 1).reshape(b, c, h, w)


def _down(in_ch: int, out_ch: int, batch_norm: bool) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(in_ch, out_ch, 4, stride=2, padding=1, bias=not batch_norm)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(out_ch))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


def _down_stack(widths: tuple[int, ...], in_channels: int = 3) -> list[nn.Sequential]:
    """Pool-free DCGAN downsampling: no batch norm on the first layer."""
    channels = (in_channels, *widths)
    return [_down(channels[i], channels[i + 1], batch_norm=i > 0) for i in range(len(widths))]


IN_CHANNELS = (3, 4, 5, 8)
UPSAMPLE_MODES = ("nearest", "bilinear")
PADDING_MODES = ("zeros", "reflect")


def _upsample(mode: str) -> nn.Upsample:
    return nn.Upsample(scale_factor=2, mode=mode, align_corners=False if mode == "bilinear" else None)


def _up(in_ch: int, out_ch: int, mode: str = "nearest") -> nn.Sequential:
    return nn.Sequential(
        _upsample(mode),
        nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
    )


class Encoder(nn.Module):
    """Pool-free encoder: 4x4 stride-2 convolutions from 128x128x3 down to 4x4x512.

    Kept as its own module so the feature-transfer study can reuse it as a backbone.
    """

    def __init__(self, widths: tuple[int, ...] = (64, 64, 128, 256, 512), in_channels: int = 3) -> None:
        super().__init__()
        self.layers = nn.Sequential(*_down_stack(widths, in_channels))
        self.out_channels = widths[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class Generator(nn.Module):
    """Encoder -> channel-wise FC -> 1x1 channel mix -> five up-convolutions -> image.

    The paper's generator ends in tanh. A ``residual`` generator adds its output to the
    pre-filled RGB input instead: it learns what the classical fill gets wrong (structure,
    texture across the hole) rather than relearning the smooth colour continuation that
    diffusion already gets right.
    """

    def __init__(self, config: GeneratorConfig | None = None) -> None:
        super().__init__()
        self.config = config or GeneratorConfig()
        cfg = self.config
        if cfg.image_size % 2 ** len(cfg.encoder_widths):
            raise ValueError("image_size must be divisible by 2**len(encoder_widths)")
        if len(cfg.decoder_widths) + 1 != len(cfg.encoder_widths):
            raise ValueError("the decoder needs one up-convolution per encoder stage")
        if cfg.in_channels not in IN_CHANNELS:
            raise ValueError("in_channels must be 3 (RGB), 4 (RGB + hole mask), 5 (+ detail hint) or 8 (+ mirror fill)")
        if cfg.upsample not in UPSAMPLE_MODES:
            raise ValueError(f"upsample must be one of {UPSAMPLE_MODES}, not {cfg.upsample!r}")
        if cfg.padding not in PADDING_MODES:
            raise ValueError(f"padding must be one of {PADDING_MODES}, not {cfg.padding!r}")
        self.encoder = Encoder(cfg.encoder_widths, cfg.in_channels)
        code = self.encoder.out_channels
        self.channel_fc = ChannelWiseFC(code, cfg.bottleneck_size)
        self.channel_mix = nn.Sequential(
            nn.Conv2d(code, code, 1, stride=1, bias=False),
            nn.BatchNorm2d(code),
            nn.ReLU(inplace=True),
        )
        ups = []
        in_ch = code
        for width in cfg.decoder_widths:
            ups.append(_up(in_ch, width, cfg.upsample))
            in_ch = width
        ups.append(nn.Sequential(_upsample(cfg.upsample), nn.Conv2d(in_ch, 3, 3, padding=1)))
        self.decoder = nn.Sequential(*ups)
        # skips[i] feeds decoder stage i + 1 from the encoder map of the same size
        enc_widths = cfg.encoder_widths[-2::-1]
        dec_widths = cfg.decoder_widths
        self.skips = (
            nn.ModuleList(nn.Conv2d(e, d, 1, bias=False) for e, d in zip(enc_widths, dec_widths, strict=True))
            if cfg.skips
            else None
        )
        self.refine = (
            nn.Sequential(
                nn.Conv2d(cfg.in_channels + 3, REFINE_WIDTH, 3, padding=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(REFINE_WIDTH, 3, 3, padding=1),
            )
            if cfg.refine
            else None
        )
        init_dcgan_(self)
        _set_padding_(self, cfg.padding)
        if self.refine is not None:
            # zero: a generator grown by it (--resume, --init-from) starts as the same function
            nn.init.zeros_(self.refine[-1].weight)
            nn.init.zeros_(self.refine[-1].bias)
        if cfg.residual:
            last = self.decoder[-1][-1]
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        if self.skips is not None:
            # zero: a generator grown from a skip-free one (--init-from) starts as that generator
            for skip in self.skips:
                nn.init.zeros_(skip.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, in_channels, S, S) in [-1, 1] from ``generator_input``; returns (B, 3, S, S).

        A residual generator's output is not clamped here (so the loss keeps its gradient
        everywhere); inference clamps it to [-1, 1].
        """
        x = with_hole_noise(x, self.config.hole_noise, self.training)
        if self.skips is None:
            delta = self.decoder(self.channel_mix(self.code(self.encoder(x))))
        else:
            features = []
            h = x
            for down in self.encoder.layers:
                h = down(h)
                features.append(h)
            h = self.decoder[0](self.channel_mix(self.code(h)))
            for skip, up, feature in zip(self.skips, self.decoder[1:], features[-2::-1], strict=True):
                h = up(h + skip(feature))
            delta = h
        if self.refine is not None:
            delta = delta + self.refine(torch.cat([x, delta], dim=1))
        if self.config.residual:
            return x[:, :3] + delta
        return torch.tanh(delta)

    def code(self, encoded: torch.Tensor) -> torch.Tensor:
        """The channel-wise fully-connected bottleneck, averaged over positions if ``pooled_code``."""
        return bottleneck_code(self.channel_fc, encoded, self.config.pooled_code)


def bottleneck_code(channel_fc: ChannelWiseFC, encoded: torch.Tensor, pooled: bool) -> torch.Tensor:
    """``channel_fc(encoded)``; ``pooled``: its mean over the positions, at every position (the
    decoder then learns nothing that depends on where in the window it paints)."""
    code = channel_fc(encoded)
    return code.mean(dim=(2, 3), keepdim=True).expand_as(code) if pooled else code


NOISE_SEED = 0  # every inference window gets the same noise: a fill does not depend on the batching


def with_hole_noise(x: torch.Tensor, std: float, fresh: bool) -> torch.Tensor:
    """``x`` (B, 4 or 5, S, S: pre-filled photo, hole, maybe the detail hint) with Gaussian noise
    of ``std`` added to the photo's hole pixels: drawn afresh when ``fresh`` (training), else one
    seeded pattern for every window, so the same photo and mask always give the same fill."""
    if std <= 0 or x.shape[1] < 4:
        return x
    if fresh:
        noise = torch.randn_like(x[:, :3])
    else:
        seeded = torch.Generator(device=x.device).manual_seed(NOISE_SEED)
        noise = torch.randn((1, 3, *x.shape[2:]), generator=seeded, device=x.device, dtype=x.dtype)
    return torch.cat([x[:, :3] + std * noise * x[:, 3:4], x[:, 3:]], dim=1)


def generator_input(
    images: torch.Tensor, hole: torch.Tensor, config: GeneratorConfig, mean: torch.Tensor, prefill: torch.Tensor | None
) -> torch.Tensor:
    """What the encoder sees. images: (B, 3, S, S) in [-1, 1]; hole: (B, 1, S, S) 0/1.

    3 channels: the hole painted in the dataset ``mean`` colour (the paper). 4 channels: the
    hole taken from ``prefill`` (a classical fill of the same images) plus the hole itself.
    More (a refiner): also ``prefill``'s further channels, as many as the generator reads: the
    detail hint (``model.detail_hint``), then the mirror fill (``model.mirror_fill``). Known
    pixels always come from ``images``; nothing of what is under the hole is used.
    """
    if config.in_channels == 3:
        return images * (1 - hole) + mean.view(1, 3, 1, 1) * hole
    if prefill is None:
        raise ValueError(f"a {config.in_channels}-channel generator needs the pre-filled images")
    if prefill.shape[1] < config.in_channels - 1:
        raise ValueError(f"a {config.in_channels}-channel generator needs {config.in_channels - 1} pre-fill channels")
    extra = prefill[:, 3 : config.in_channels - 1]
    return torch.cat([images * (1 - hole) + prefill[:, :3] * hole, hole, extra], dim=1)


class Discriminator(nn.Module):
    """DCGAN discriminator on the whole (completed) image; not conditioned on the context.

    ``spectral_norm=True`` (Miyato et al. 2018) replaces batch norm with a spectral
    normalisation of every convolution: the discriminator stays 1-Lipschitz, so the gradient
    it hands the generator cannot grow as it wins, the failure that gave the joint center
    model its blocky, checkerboard-like fills.
    """

    def __init__(
        self, image_size: int = 128, widths: tuple[int, ...] = (64, 128, 256, 512), spectral_norm: bool = False
    ) -> None:
        super().__init__()
        final = image_size // 2 ** len(widths)
        self.layers = nn.Sequential(*_down_stack(widths), nn.Conv2d(widths[-1], 1, final, stride=1, padding=0))
        init_dcgan_(self)
        if spectral_norm:
            _spectral_normalise_(self.layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Returns one real/fake logit per image, shape (B,)."""
        return self.layers(x).flatten()


class PatchDiscriminator(nn.Module):
    """Conditional patch discriminator (pix2pix's 70x70 PatchGAN, spectral norm, no batch norm).

    It sees the completed image together with the hole channel, so it judges a fill against the
    context it must continue and knows which pixels were generated; it returns one logit per
    overlapping ~70 px patch instead of one per image, so a sharp but wrong patch and a smooth
    smear are told apart locally, where the eye looks. ``features`` returns every block's output
    as well, for the feature-matching loss.
    """

    RECEPTIVE_FIELD = 70  # px: four 4x4 convolutions, three of stride 2, then the 4x4 logit layer

    def __init__(self, widths: tuple[int, ...] = (64, 128, 256, 512), in_channels: int = 4) -> None:
        super().__init__()
        if len(widths) != 4:
            raise ValueError("the 70 px patch discriminator has four blocks")
        sn = nn.utils.parametrizations.spectral_norm
        blocks = []
        channels = (in_channels, *widths)
        for i in range(4):
            stride = 2 if i < 3 else 1
            conv = nn.Conv2d(channels[i], channels[i + 1], 4, stride=stride, padding=1)
            blocks.append(nn.Sequential(sn(conv), nn.LeakyReLU(0.2, inplace=True)))
        self.blocks = nn.ModuleList(blocks)
        self.logits = sn(nn.Conv2d(widths[-1], 1, 4, stride=1, padding=1))

    @staticmethod
    def hole_share(hole: torch.Tensor) -> torch.Tensor:
        """How much hole each logit's patch holds, (B, 1, s, s) in [0, 1]: the hole averaged through
        the same 4x4 windows and strides as the network, which weights a patch's centre more than
        its rim, as the patch's effective receptive field does (padding is no pixel: a patch on the
        border that only holds hole has share 1)."""
        h = hole.float()
        for stride in (2, 2, 2, 1, 1):
            h = F.avg_pool2d(h, 4, stride=stride, padding=1, count_include_pad=False)
        return h

    def features(self, image: torch.Tensor, hole: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """image: (B, 3, S, S) in [-1, 1]; hole: (B, 1, S, S) 0/1. Returns the (B, 1, s, s) patch
        logits and each block's activations."""
        h = torch.cat([image, hole.to(image.dtype) * 2 - 1], dim=1)
        feats = []
        for block in self.blocks:
            h = block(h)
            feats.append(h)
        return self.logits(h), feats

    def forward(self, image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        return self.features(image, hole)[0]


def _spectral_normalise_(module: nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            setattr(module, name, nn.Identity())
        elif isinstance(child, nn.Conv2d):
            setattr(module, name, nn.utils.parametrizations.spectral_norm(child))
        else:
            _spectral_normalise_(child)


def init_dcgan_(module: nn.Module) -> None:
    """DCGAN initialisation: N(0, 0.02) convolutions, N(1, 0.02) batch-norm scales."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def _set_padding_(module: nn.Module, mode: str) -> None:
    """Every padded convolution of ``module`` pads with ``mode`` (no parameter changes, so an
    export trained with zero padding loads into either)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d) and any(p > 0 for p in m.padding):
            m.padding_mode = mode


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def generator_flops(config: GeneratorConfig | None = None) -> int:
    """Multiply-accumulates of one 128x128 forward pass, counted from the layer shapes."""
    cfg = config or GeneratorConfig()
    macs = 0
    size = cfg.image_size
    in_ch = cfg.in_channels
    for width in cfg.encoder_widths:
        size //= 2
        macs += in_ch * width * 16 * size * size
        in_ch = width
    n = cfg.bottleneck_size
    macs += in_ch * (n * n) ** 2  # channel-wise FC
    macs += in_ch * in_ch * n * n  # 1x1 mix
    for width in (*cfg.decoder_widths, 3):
        size *= 2
        macs += in_ch * width * 9 * size * size
        in_ch = width
    if cfg.skips:
        size = cfg.image_size
        for e, d in zip(cfg.encoder_widths[:-1], cfg.decoder_widths[::-1], strict=True):
            size //= 2
            macs += e * d * size * size
    if cfg.refine:
        macs += ((cfg.in_channels + 3) * REFINE_WIDTH + REFINE_WIDTH * 3) * 9 * cfg.image_size**2
    return macs
