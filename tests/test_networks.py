"""Architecture: shapes, the channel-wise fully-connected layer, parameter counts."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from model.fused import fuse_for_inference
from model.networks import (
    ChannelWiseFC,
    Discriminator,
    Generator,
    GeneratorConfig,
    PatchDiscriminator,
    count_parameters,
    generator_flops,
    generator_input,
)


def test_generator_and_discriminator_shapes() -> None:
    g, d = Generator().eval(), Discriminator().eval()
    x = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        y = g(x)
        logits = d(y)
    assert y.shape == (2, 3, 128, 128)
    assert y.abs().max() <= 1.0  # tanh output
    assert logits.shape == (2,)


def test_encoder_is_pool_free_and_reaches_4x4x512() -> None:
    g = Generator()
    assert not any(isinstance(m, (torch.nn.MaxPool2d, torch.nn.AvgPool2d)) for m in g.modules())
    convs = [m for m in g.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 64, 128, 256, 512]
    assert all(c.stride == (2, 2) and c.kernel_size == (4, 4) for c in convs)
    assert g.encoder(torch.randn(1, 3, 128, 128)).shape == (1, 512, 4, 4)


def test_decoder_has_five_up_convolutions() -> None:
    ups = [m for m in Generator().decoder.modules() if isinstance(m, torch.nn.Upsample)]
    assert len(ups) == 5


def test_channel_wise_fc_has_m_n4_weights_and_the_mix_is_1x1() -> None:
    g = Generator()
    m, n = 512, 4
    assert count_parameters(g.channel_fc) == m * n**4
    mix_convs = [c for c in g.channel_mix.modules() if isinstance(c, torch.nn.Conv2d)]
    assert len(mix_convs) == 1
    assert mix_convs[0].kernel_size == (1, 1) and mix_convs[0].stride == (1, 1)
    assert count_parameters(mix_convs[0]) == m * m


def test_channel_wise_fc_has_no_cross_map_weights() -> None:
    torch.manual_seed(0)
    fc = ChannelWiseFC(channels=8, size=4)
    x = torch.randn(3, 8, 4, 4)
    base = fc(x)
    perturbed = x.clone()
    perturbed[:, 5, 2, 1] += 10.0
    delta = (fc(perturbed) - base).abs().amax(dim=(0, 2, 3))
    assert delta[5] > 0  # the perturbed map changes, at every location it connects to...
    assert (fc(perturbed) - base)[:, 5].abs().gt(0).all()
    others = torch.cat([delta[:5], delta[6:]])
    assert torch.equal(others, torch.zeros_like(others))  # ...and no other map does


def test_parameter_count_and_flops_are_documented_values() -> None:
    assert count_parameters(Generator()) == 4_805_251
    assert count_parameters(Discriminator()) == 2_790_209
    assert generator_flops() == 590_479_360
    with_skips = GeneratorConfig(in_channels=4, residual=True, skips=True)  # the shipped ce-region
    assert count_parameters(Generator(with_skips)) == 4_896_387
    assert generator_flops(with_skips) == 624_033_792
    refined = GeneratorConfig(in_channels=4, residual=True, skips=True, refine=True)
    assert count_parameters(Generator(refined)) - 4_896_387 == (7 * 32 + 32 * 3) * 9 + 32 + 3
    assert generator_flops(refined) - 624_033_792 == (7 * 32 + 32 * 3) * 9 * 128 * 128


def test_config_round_trips() -> None:
    cfg = GeneratorConfig(image_size=64)
    assert GeneratorConfig.from_dict(cfg.to_dict()) == cfg
    refined = GeneratorConfig(in_channels=4, residual=True, skips=True, refine=True)
    assert GeneratorConfig.from_dict(refined.to_dict()) == refined
    assert Generator(cfg)(torch.randn(1, 3, 64, 64)).shape == (1, 3, 64, 64)


def test_spectral_norm_discriminator_is_one_lipschitz_per_layer() -> None:
    """Every convolution's largest singular value is ~1 once power iteration has run, and no
    batch norm is left to rescale activations behind the normalisation's back."""
    d = Discriminator(spectral_norm=True).train()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in d.modules())
    for _ in range(30):  # each training forward runs one power iteration
        d(torch.randn(2, 3, 128, 128))
    convs = [m for m in d.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 5
    for conv in convs:
        sigma = torch.linalg.matrix_norm(conv.weight.detach().flatten(1), ord=2)
        assert abs(float(sigma) - 1.0) < 0.05, float(sigma)
    assert d(torch.randn(3, 3, 128, 128)).shape == (3,)


def test_exports_written_before_the_mask_channel_load_as_the_papers_generator() -> None:
    old = {"image_size": 128, "encoder_widths": [64, 64, 128, 256, 512], "decoder_widths": [256, 128, 64, 64]}
    cfg = GeneratorConfig.from_dict(old)
    assert cfg.in_channels == 3 and not cfg.residual


def test_an_untrained_correction_generator_returns_its_prefill() -> None:
    """The last layer starts at zero: before training, the output is the classical fill."""
    cfg = GeneratorConfig(in_channels=4, residual=True)
    g = Generator(cfg).eval()
    images = torch.rand(2, 3, 128, 128) * 2 - 1
    hole = torch.zeros(2, 1, 128, 128)
    hole[..., 40:90, 30:100] = 1
    prefill = torch.rand(2, 3, 128, 128) * 2 - 1
    x = generator_input(images, hole, cfg, torch.zeros(3), prefill)
    assert x.shape == (2, 4, 128, 128)
    assert torch.equal(x[:, 3:], hole)
    assert torch.equal(x[:, :3] * hole, prefill * hole)  # nothing under the hole is read
    with torch.no_grad():
        assert torch.equal(g(x), x[:, :3])
    assert generator_flops(cfg) > generator_flops(GeneratorConfig())


def randomised_generator(config: GeneratorConfig) -> Generator:
    """A generator with non-trivial weights everywhere, skips and batch-norm statistics included
    (a fresh one has zero skips and unit statistics, which would hide a wrong fold)."""
    torch.manual_seed(0)
    g = Generator(config)
    with torch.no_grad():
        for skip in g.skips or []:
            skip.weight.normal_(0, 0.05)
        if g.refine is not None:
            g.refine[-1].weight.normal_(0, 0.02)
        last = g.decoder[-1][-1]
        last.weight.normal_(0, 0.02)
        for m in g.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.3)
                m.running_var.uniform_(0.5, 2.0)
                m.bias.normal_(0, 0.1)
    return g.eval()


@pytest.mark.parametrize(
    ("before", "after", "new"),
    [
        (
            GeneratorConfig(in_channels=4, residual=True),
            GeneratorConfig(in_channels=4, residual=True, skips=True),
            "skips.",
        ),
        (
            GeneratorConfig(in_channels=4, residual=True, skips=True),
            GeneratorConfig(in_channels=4, residual=True, skips=True, refine=True),
            "refine.",
        ),
    ],
)
def test_a_generator_grown_by_zero_initialised_parts_is_the_same_function(
    before: GeneratorConfig, after: GeneratorConfig, new: str
) -> None:
    plain = randomised_generator(before)
    grown = Generator(after).eval()
    missing, unexpected = grown.load_state_dict(plain.state_dict(), strict=False)
    assert unexpected == [] and missing and all(k.startswith(new) for k in missing)
    grown_names = [name for name, _ in grown.named_parameters()]
    assert grown_names[: len(list(plain.parameters()))] == [name for name, _ in plain.named_parameters()], (
        "new parts are registered last, so a resumed optimiser's state still lines up"
    )
    x = torch.rand(2, 4, 128, 128) * 2 - 1
    with torch.no_grad():
        assert torch.equal(grown(x), plain(x))
        part = grown.skips[2] if new == "skips." else grown.refine[-1]
        part.weight.fill_(0.01)  # the new part does reach the output once trained
        assert not torch.allclose(grown(x), plain(x))


def test_the_inference_form_computes_what_the_trained_generator_computes() -> None:
    for config in (
        GeneratorConfig(),
        GeneratorConfig(in_channels=4, residual=True),
        GeneratorConfig(in_channels=4, residual=True, skips=True),
        GeneratorConfig(in_channels=4, residual=True, skips=True, refine=True),
        GeneratorConfig(in_channels=4, residual=True, skips=True, upsample="bilinear"),
        GeneratorConfig(in_channels=4, residual=True, skips=True, upsample="bilinear", hole_noise=0.1),
        GeneratorConfig(in_channels=5, residual=True, skips=True, upsample="bilinear", padding="reflect"),
        GeneratorConfig(in_channels=4, residual=True, skips=True, refine=True, padding="reflect"),  # no phase form
        GeneratorConfig(
            in_channels=5, residual=True, skips=True, upsample="bilinear", padding="reflect", pooled_code=True
        ),
    ):
        trained = randomised_generator(config)
        fused = fuse_for_inference(trained)
        assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
        x = torch.rand(3, config.in_channels, 128, 128) * 2 - 1
        with torch.no_grad():
            expected = trained(x)
            assert torch.allclose(fused(x), expected, atol=1e-5)
            channels_last = fused.to(memory_format=torch.channels_last)
            assert torch.allclose(channels_last(x.contiguous(memory_format=torch.channels_last)), expected, atol=1e-5)
        assert trained.training is False and any(isinstance(m, torch.nn.BatchNorm2d) for m in trained.decoder.modules())


def test_patch_discriminator_judges_each_70px_patch_of_image_and_hole() -> None:
    torch.manual_seed(0)
    d = PatchDiscriminator((8, 16, 32, 64)).eval()
    image, hole = torch.randn(1, 3, 128, 128), torch.zeros(1, 1, 128, 128)
    with torch.no_grad():
        logits, feats = d.features(image, hole)
        assert logits.shape == (1, 1, 14, 14) and len(feats) == 4
        # a pixel changes only the logits whose ~70 px patches hold it
        moved = image.clone()
        moved[..., 0, 0] += 10
        changed = (d(moved, hole) - logits).abs()[0, 0] > 0
        assert changed[0, 0] and not changed[5:, :].any() and not changed[:, 5:].any()
        # conditioned on the hole: the same pixels with another hole are judged differently
        assert not torch.equal(d(image, 1 - hole), logits)
    assert all(hasattr(m, "parametrizations") for m in d.modules() if isinstance(m, torch.nn.Conv2d))


def test_patch_hole_share_is_one_inside_a_big_hole_and_zero_far_from_it() -> None:
    hole = torch.zeros(1, 1, 128, 128)
    hole[..., :, :64] = 1  # left half
    share = PatchDiscriminator.hole_share(hole)[0, 0]
    assert share.shape == (14, 14)
    assert torch.equal(share[:, :3], torch.ones(14, 3)) and torch.equal(share[:, -3:], torch.zeros(14, 3))
    assert ((share >= 0) & (share <= 1)).all()


def test_bilinear_upsampling_is_part_of_the_config_and_changes_the_function() -> None:
    config = GeneratorConfig(in_channels=4, residual=True, skips=True, upsample="bilinear")
    assert GeneratorConfig.from_dict(config.to_dict()) == config
    assert (
        GeneratorConfig.from_dict({k: v for k, v in config.to_dict().items() if k != "upsample"}).upsample == "nearest"
    )
    nearest = randomised_generator(GeneratorConfig(in_channels=4, residual=True, skips=True))
    bilinear = Generator(config).eval()
    bilinear.load_state_dict(nearest.state_dict())  # the same weights: a nearest export can start one
    x = torch.rand(1, 4, 128, 128) * 2 - 1
    with torch.no_grad():
        assert not torch.allclose(bilinear(x), nearest(x), atol=1e-4)
    assert all(m.mode == "bilinear" for m in bilinear.modules() if isinstance(m, torch.nn.Upsample))
    with pytest.raises(ValueError, match="upsample"):
        Generator(GeneratorConfig(upsample="bicubic"))


def test_reflect_padding_makes_a_windows_frame_no_edge() -> None:
    """A reflect-padded generator reads its window's edge as more of the same content: a flat
    window stays flat through every convolution (a zero-padded one steps at the frame, which a
    refiner inside a big hole learnt to draw rings along). The weights are the same tensors, so
    a zero-padded export starts one."""
    config = GeneratorConfig(in_channels=5, residual=True, skips=True, upsample="bilinear", padding="reflect")
    assert GeneratorConfig.from_dict(config.to_dict()) == config
    legacy = {k: v for k, v in config.to_dict().items() if k != "padding"}
    assert GeneratorConfig.from_dict(legacy).padding == "zeros"
    zeros = randomised_generator(replace(config, padding="zeros"))
    reflect = Generator(config).eval()
    reflect.load_state_dict(zeros.state_dict())
    padded = [m for m in reflect.modules() if isinstance(m, torch.nn.Conv2d) and m.padding != (0, 0)]
    assert padded and all(m.padding_mode == "reflect" for m in padded)
    flat = torch.full((1, 5, 128, 128), 0.3)
    with torch.no_grad():
        for name, generator in (("reflect", reflect), ("zeros", zeros)):
            h = generator.encoder.layers[0](flat)
            frame_step = (h[..., 0, :] - h[..., 32, :]).abs().max()
            assert (frame_step < 1e-5) == (name == "reflect"), name
    with pytest.raises(ValueError, match="padding"):
        Generator(GeneratorConfig(padding="circular"))


def test_a_pooled_code_tells_the_decoder_nothing_about_position() -> None:
    """With ``pooled_code`` the bottleneck hands the decoder one vector per map: the same at every
    position, so a skip-free, reflect-padded generator turns a flat window into a flat output
    (the channel-wise fully-connected code alone varies across it). Same parameters as without."""
    config = GeneratorConfig(in_channels=5, residual=True, padding="reflect", pooled_code=True)
    assert GeneratorConfig.from_dict(config.to_dict()) == config
    legacy = {k: v for k, v in config.to_dict().items() if k != "pooled_code"}
    assert GeneratorConfig.from_dict(legacy).pooled_code is False
    positional = randomised_generator(replace(config, pooled_code=False))
    pooled = Generator(config).eval()
    pooled.load_state_dict(positional.state_dict())
    flat = torch.full((1, 5, 128, 128), 0.3)
    with torch.no_grad():
        for generator, position_free in ((pooled, True), (positional, False)):
            code = generator.code(generator.encoder(flat))
            out = generator(flat)
            assert (code.std(dim=(2, 3)).max() < 1e-6) == position_free
            assert (out.std(dim=(2, 3)).max() < 1e-4) == position_free


def test_hole_noise_is_fresh_in_training_seeded_at_inference_and_only_in_the_hole() -> None:
    """Noise of ``hole_noise`` on the hole's pre-fill: an untrained correction generator returns
    its noisy pre-fill, the context untouched; at inference every window, in any batch, gets the
    same pattern, so a fill never depends on how windows were batched."""
    cfg = GeneratorConfig(in_channels=4, residual=True, hole_noise=0.1)
    assert GeneratorConfig.from_dict(cfg.to_dict()) == cfg
    g = Generator(cfg).eval()
    hole = torch.zeros(3, 1, 128, 128)
    hole[..., 40:90, 30:100] = 1
    x = torch.cat([torch.rand(3, 3, 128, 128) * 2 - 1, hole], dim=1)
    with torch.no_grad():
        out = g(x)
        assert torch.equal(out * (1 - hole), x[:, :3] * (1 - hole))
        noise = (out - x[:, :3])[hole.expand(-1, 3, -1, -1).bool()]
        assert 0.09 < float(noise.std()) < 0.11
        assert torch.equal(g(x[1:2]), out[1:2]) and torch.allclose(out[0] - x[0, :3], out[2] - x[2, :3], atol=1e-6)
        g.train()
        assert not torch.equal(g(x), g(x))
