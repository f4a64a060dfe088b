"""The conditioning options of the generators (docs/quality.md): plain class
embedding, plain zero-initialised conditional BatchNorm, plain low-res residuals,
a ConvGRU burn-in.
Each is off by default (the paper's spectral norm everywhere) and does what its
docstring says when switched on."""
import torch
from torch.nn.utils import parametrize

from hvg.models.generators import Level1Generator, UpsamplingGenerator
from hvg.models.layers import FrameBatchNorm


def level1(**options) -> Level1Generator:
    torch.manual_seed(0)
    return Level1Generator(6, 16, base_channels=4, channel_mults=(2, 2, 1), noise_dim=16,
                           num_classes=3, class_embed_dim=8, **options)


def upsampler(**options) -> UpsamplingGenerator:
    torch.manual_seed(0)
    return UpsamplingGenerator(4, 16, 8, base_channels=4, channel_mults=(2, 2, 1),
                               noise_dim=16, num_classes=3, class_embed_dim=8, **options)


def test_defaults_keep_spectral_norm_everywhere():
    for gen in (level1(), upsampler()):
        assert parametrize.is_parametrized(gen.stem.embed)
        norms = [m for m in gen.modules() if isinstance(m, FrameBatchNorm) and m.cond_dim]
        assert norms and all(parametrize.is_parametrized(m.gain) for m in norms)
    residuals = [s.residual for s in upsampler().slots if s.residual is not None]
    assert residuals and all(parametrize.is_parametrized(r) for r in residuals)


def test_plain_embedding_is_on_the_noise_scale():
    gen = level1(embed_spectral_norm=False)
    assert not parametrize.is_parametrized(gen.stem.embed)
    norms = gen.stem.embed.weight.norm(dim=1)
    # N(0, 1) init: ~sqrt(8) = 2.8, where the normalised embedding is <= 1
    assert norms.min() > 1.5
    assert level1().stem.embed.weight.norm(dim=1).max() <= 1.0 + 1e-4


def test_plain_conditional_norm_starts_as_batchnorm_and_learns():
    norm = FrameBatchNorm(4, 3, cond_dim=5, cond_spectral_norm=False)
    assert not parametrize.is_parametrized(norm.gain)
    x, cond = torch.randn(6, 3, 4, 5, 5), torch.randn(6, 5)
    out = norm(x, cond)
    mean = x.mean(dim=(0, 3, 4), keepdim=True)
    var = x.var(dim=(0, 3, 4), unbiased=False, keepdim=True)
    assert torch.allclose(out, (x - mean) / torch.sqrt(var + norm.eps), atol=1e-4)
    out.pow(2).mul(torch.randn_like(out)).sum().backward()
    assert norm.gain.weight.grad.abs().sum() > 0
    # with spectral norm the same condition moves every gain by O(1)
    normalised = FrameBatchNorm(4, 3, cond_dim=5)
    assert (normalised.gain(cond)).std() > 0.3


def test_generators_pass_the_options_to_every_conditional_norm():
    for gen in (level1(cbn_spectral_norm=False), upsampler(cbn_spectral_norm=False)):
        norms = [m for m in gen.modules() if isinstance(m, FrameBatchNorm) and m.cond_dim]
        assert norms and not any(parametrize.is_parametrized(m.gain) for m in norms)
        assert all(m.gain.weight.abs().sum() == 0 for m in norms)
    out = upsampler(cbn_spectral_norm=False)(torch.randn(2, 16), torch.rand(2, 3, 2, 8, 8),
                                             torch.tensor([0, 2]))
    assert out.shape == (2, 3, 4, 16, 16)


def test_plain_residuals_give_every_channel_the_input_at_unit_scale():
    gen = upsampler(residual_spectral_norm=False)
    residuals = [s.residual for s in gen.slots if s.residual is not None]
    assert residuals and not any(parametrize.is_parametrized(r) for r in residuals)
    for conv in residuals:
        rows = conv.weight.flatten(1).norm(dim=1)
        assert abs(rows.pow(2).mean().sqrt().item() - 1.0) < 1e-4
    normalised = [s.residual for s in upsampler().slots if s.residual is not None]
    for conv in normalised:  # largest singular value 1: rows far below 1 when C > 3
        assert conv.weight.flatten(1).norm(dim=1).pow(2).mean().sqrt() < 0.9


def test_gru_burn_in_is_off_by_default_and_reaches_every_convgru():
    assert {gru.burn_in for gru in level1().grus} == {0}  # the paper's zero state
    warm = level1(gru_burn_in=3)
    assert {gru.burn_in for gru in warm.grus} == {3}
    # the same parameters and buffers: checkpoints load either way
    assert warm.state_dict().keys() == level1().state_dict().keys()
    noise, labels = torch.randn(2, 16), torch.tensor([0, 2])
    assert warm(noise, labels).shape == level1()(noise, labels).shape == (2, 3, 6, 16, 16)
