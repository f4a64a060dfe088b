"""Layers: per-frame BatchNorm, ConvGRU, discriminator blocks, SN + orthogonal init."""
import pytest
import torch
import torch.nn as nn

from hvg.models.layers import (ConvGRU, DiscResBlock, FrameBatchNorm, conv2d,
                               conv3d, linear, use_statistics)

B, T, C, H, W = 4, 3, 2, 5, 5


def frames_with_different_statistics() -> torch.Tensor:
    """(B, T, C, H, W): frame t has scale 10 * t + 1 and offset 30 * (t - 1)."""
    x = torch.randn(B, T, C, H, W)
    scale = (10 * torch.arange(T) + 1.0).view(1, T, 1, 1, 1)
    offset = (30 * torch.arange(T) - 30.0).view(1, T, 1, 1, 1)
    return x * scale + offset


def normalise_per_frame(x: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """Reference: batch statistics of each (t, c) over (B, H, W)."""
    mean = x.mean(dim=(0, 3, 4), keepdim=True)
    var = x.var(dim=(0, 3, 4), unbiased=False, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps)


def unit_conditional_bn() -> FrameBatchNorm:
    """A conditional FrameBatchNorm whose gain is 1 and bias 0 for every cond."""
    bn = FrameBatchNorm(C, T, cond_dim=6, use_spectral_norm=False)
    with torch.no_grad():
        bn.gain.weight.zero_()
        bn.offset.weight.zero_()
    return bn


# --- FrameBatchNorm -------------------------------------------------------------
@pytest.mark.parametrize('conditional', [False, True])
def test_frame_bn_normalises_every_frame_and_channel_separately(conditional):
    x = frames_with_different_statistics()
    if conditional:
        out = unit_conditional_bn().train()(x, torch.randn(B, 6))
    else:
        out = FrameBatchNorm(C, T).train()(x)  # weight 1, bias 0 at init

    assert out.shape == (B, T, C, H, W)
    mean = out.mean(dim=(0, 3, 4))
    var = out.var(dim=(0, 3, 4), unbiased=False)
    assert mean.shape == var.shape == (T, C)
    torch.testing.assert_close(mean, torch.zeros(T, C), atol=1e-5, rtol=0)
    torch.testing.assert_close(var, torch.ones(T, C), atol=1e-3, rtol=0)
    torch.testing.assert_close(out, normalise_per_frame(x), atol=1e-5, rtol=1e-5)


def test_frame_bn_differs_from_per_channel_batch_norm():
    """A standard BN pools all frames: frames with other statistics stay apart."""
    x = frames_with_different_statistics()
    standard = nn.BatchNorm3d(C, eps=1e-4).train()
    # standard BN wants (B, C, T, H, W); bring its output back to frames-major
    out_standard = standard(x.transpose(1, 2)).transpose(1, 2)
    out_frame = FrameBatchNorm(C, T).train()(x)

    frame_means_standard = out_standard.mean(dim=(0, 3, 4))
    frame_stds_standard = out_standard.std(dim=(0, 3, 4))
    # per channel, over all frames, the standard BN is normalised ...
    torch.testing.assert_close(out_standard.mean(dim=(0, 1, 3, 4)), torch.zeros(C),
                               atol=1e-5, rtol=0)
    # ... but not per frame: the first frame sits far below, the last far above
    assert (frame_means_standard[0] < -0.5).all()
    assert (frame_means_standard[-1] > 0.5).all()
    assert (frame_stds_standard[0] < 0.2).all()
    # the per-frame BN normalises each frame on its own
    torch.testing.assert_close(out_frame.mean(dim=(0, 3, 4)), torch.zeros(T, C),
                               atol=1e-5, rtol=0)
    torch.testing.assert_close(out_frame.std(dim=(0, 3, 4), unbiased=False),
                               torch.ones(T, C), atol=1e-3, rtol=0)


def test_frame_bn_running_stats_are_per_frame_and_update_per_frame():
    bn = FrameBatchNorm(C, T, momentum=0.1).train()
    assert bn.running_mean.shape == bn.running_var.shape == (T, C)
    assert bn.num_frames == T
    x = frames_with_different_statistics()
    bn(x)
    batch_mean = x.mean(dim=(0, 3, 4))
    batch_var = x.var(dim=(0, 3, 4), unbiased=True)  # BN tracks the unbiased var
    torch.testing.assert_close(bn.running_mean, 0.1 * batch_mean)
    torch.testing.assert_close(bn.running_var, 0.9 + 0.1 * batch_var)
    # every frame got its own statistics: they grow with the frame's offset/scale
    assert (bn.running_mean[1:] > bn.running_mean[:-1]).all()
    assert (bn.running_var[1:] > bn.running_var[:-1]).all()
    # and the buffers are the ones that are saved
    state = bn.state_dict()
    assert state['running_mean'].shape == (T, C)
    torch.testing.assert_close(state['running_var'], bn.running_var)


def test_frame_bn_eval_uses_running_stats_and_leaves_them_alone():
    bn = FrameBatchNorm(C, T)
    running_mean = torch.randn(T, C)
    running_var = torch.rand(T, C) + 0.5
    bn.running_mean.copy_(running_mean)
    bn.running_var.copy_(running_var)
    bn.eval()
    x = frames_with_different_statistics()
    out = bn(x)
    expected = ((x - running_mean.view(1, T, C, 1, 1)) /
                torch.sqrt(running_var.view(1, T, C, 1, 1) + bn.eps))
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(bn.running_mean, running_mean)
    torch.testing.assert_close(bn.running_var, running_var)
    # in eval mode a sample does not depend on the rest of the batch
    torch.testing.assert_close(bn(x[:1]), out[:1])


def test_frame_bn_rejects_a_video_of_another_length():
    bn = FrameBatchNorm(C, T)
    with pytest.raises(ValueError, match=f'statistics for {T} frames.*{T + 1} frames'):
        bn(torch.randn(B, T + 1, C, H, W))


def test_frame_bn_uses_supplied_statistics_of_another_length_and_keeps_its_own():
    """Another length's statistics are supplied for a block (``use_statistics``):
    the buffers and the state dict stay the training length's."""
    bn = FrameBatchNorm(C, T)
    bn.train()(frames_with_different_statistics())
    bn.eval()
    state = {k: v.clone() for k, v in bn.state_dict().items()}
    mean, var = torch.randn(T + 2, C), torch.rand(T + 2, C) + 0.5
    x = torch.randn(B, T + 2, C, H, W)
    with use_statistics(bn, {'': (mean, var)}):
        assert bn.num_frames == T + 2
        expected = (x - mean.view(1, T + 2, C, 1, 1)) / torch.sqrt(
            var.view(1, T + 2, C, 1, 1) + bn.eps)
        torch.testing.assert_close(bn(x), expected)
        with pytest.raises(ValueError, match=f'statistics for {T + 2} frames'):
            bn(torch.randn(B, T, C, H, W))
        # in training mode the updates land in the supplied tensors
        supplied = mean.clone()
        bn.train()
        bn(x)
        bn.eval()
        assert not torch.equal(mean, supplied)
    assert bn.num_frames == T and bn.supplied_statistics is None
    assert state.keys() == bn.state_dict().keys()
    assert all(torch.equal(v, bn.state_dict()[k]) for k, v in state.items())
    with pytest.raises(ValueError, match=r'expected \(T, 2\)'):
        with use_statistics(bn, {'': (torch.zeros(T, C + 1), torch.ones(T, C + 1))}):
            pass


def test_conditional_frame_bn_needs_a_condition():
    bn = FrameBatchNorm(C, T, cond_dim=6)
    with pytest.raises(ValueError, match='conditional'):
        bn(torch.randn(B, T, C, H, W))


def test_conditional_gain_and_bias_depend_on_the_condition():
    bn = FrameBatchNorm(C, T, cond_dim=6).train()  # spectral-normalised gain/offset
    # fixed spectral-norm estimates, so that gain(cond) below is the one used inside
    bn.gain.eval()
    bn.offset.eval()
    x = torch.randn(1, T, C, H, W).expand(2, -1, -1, -1, -1)  # two identical samples
    cond = torch.randn(2, 6)
    out = bn(x, cond)
    assert not torch.allclose(out[0], out[1], atol=1e-3)
    # the same condition gives the same output: only the condition differs above
    same = bn(x, cond[:1].expand(2, -1))
    torch.testing.assert_close(same[0], same[1])
    # BigGAN form: normed * (1 + W_g c) + W_b c, one gain/bias per sample and channel
    gain = (1 + bn.gain(cond)).view(2, 1, C, 1, 1)
    bias = bn.offset(cond).view(2, 1, C, 1, 1)
    torch.testing.assert_close(out, normalise_per_frame(x) * gain + bias,
                               atol=1e-5, rtol=1e-5)


# --- ConvGRU -------------------------------------------------------------------
def test_conv_gru_output_shape():
    gru = ConvGRU(3, 5)
    out = gru(torch.randn(2, 4, 3, 6, 7))
    assert out.shape == (2, 4, 5, 6, 7)


def test_conv_gru_is_causal():
    gru = ConvGRU(3, 4).eval()  # eval: no power iteration between the two calls
    x = torch.randn(2, 6, 3, 5, 5)
    out = gru(x)
    t0 = 3
    x_changed = x.clone()
    x_changed[:, t0] += torch.randn_like(x_changed[:, t0])
    out_changed = gru(x_changed)
    torch.testing.assert_close(out_changed[:, :t0], out[:, :t0], rtol=0, atol=0)
    assert not torch.allclose(out_changed[:, t0], out[:, t0])
    # the change carries forward through the hidden state
    assert not torch.allclose(out_changed[:, -1], out[:, -1])


@pytest.mark.parametrize('use_spectral_norm', [True, False])
def test_conv_gru_hidden_state_is_nonnegative_from_zero(use_spectral_norm):
    """h_t = u h_{t-1} + (1 - u) relu(.) stays >= 0 when h_0 = 0."""
    gru = ConvGRU(3, 4, use_spectral_norm=use_spectral_norm)
    x = 5 * torch.randn(2, 6, 3, 5, 5) - 2  # mostly negative inputs
    out = gru(x)
    assert (out >= 0).all()
    assert (out > 0).any()


def test_conv_gru_starts_from_a_given_hidden_state():
    gru = ConvGRU(3, 4).eval()
    x = torch.randn(2, 5, 3, 4, 4)
    full = gru(x)
    # running the second half from the hidden state the first half ends in
    second_half = gru(x[:, 2:], hidden=full[:, 1])
    torch.testing.assert_close(second_half, full[:, 2:])


def test_conv_gru_burn_in_runs_the_first_input_before_the_first_output():
    torch.manual_seed(0)
    plain = ConvGRU(3, 4).eval()
    warm = ConvGRU(3, 4, burn_in=2).eval()
    warm.load_state_dict(plain.state_dict())  # no new parameters or buffers
    x = torch.randn(2, 5, 3, 4, 4)
    # the same as the plain recurrence on the first frame twice more, cut off
    padded = torch.cat([x[:, :1], x[:, :1], x], dim=1)
    torch.testing.assert_close(warm(x), plain(padded)[:, 2:], rtol=0, atol=0)
    assert not torch.allclose(warm(x)[:, 0], plain(x)[:, 0])
    # a given hidden state is a continuation: no burn-in
    hidden = torch.rand(2, 4, 4, 4)
    torch.testing.assert_close(warm(x, hidden=hidden), plain(x, hidden=hidden))
    with pytest.raises(ValueError, match='burn_in must be >= 0'):
        ConvGRU(3, 4, burn_in=-1)


# --- DiscResBlock ----------------------------------------------------------------
def test_disc_res_block_2d_shapes():
    x = torch.randn(3, 4, 8, 8)
    assert DiscResBlock(4, 6, downsample=True)(x).shape == (3, 6, 4, 4)
    assert DiscResBlock(4, 6, downsample=False)(x).shape == (3, 6, 8, 8)
    identity = DiscResBlock(4, 4, downsample=False)
    assert identity.shortcut is None
    assert identity(x).shape == x.shape


def test_disc_res_block_3d_pools_space_but_keeps_time():
    x = torch.randn(2, 3, 5, 8, 8)
    block = DiscResBlock(3, 6, downsample=True, preactivation=False, dims=3)
    assert block(x).shape == (2, 6, 5, 4, 4)
    assert DiscResBlock(3, 6, downsample=False, dims=3)(x).shape == (2, 6, 5, 8, 8)


def test_disc_res_block_2d_scores_samples_independently():
    block = DiscResBlock(3, 4).eval()
    x = torch.randn(3, 3, 8, 8)
    torch.testing.assert_close(block(x)[1:2], block(x[1:2]))


def test_disc_res_block_3d_mixes_neighbouring_frames():
    block = DiscResBlock(3, 4, downsample=False, dims=3).eval()
    x = torch.randn(1, 3, 6, 8, 8)
    changed = x.clone()
    changed[:, :, 0] += 1
    out, out_changed = block(x), block(changed)
    # two 3x3x3 convolutions: frame 0 reaches frames 0..2, not beyond
    assert not torch.allclose(out[:, :, 2], out_changed[:, :, 2])
    torch.testing.assert_close(out[:, :, 3:], out_changed[:, :, 3:], rtol=0, atol=1e-6)


def test_disc_res_block_rejects_other_dims():
    with pytest.raises(ValueError, match='dims'):
        DiscResBlock(3, 4, dims=1)


# --- spectral norm and orthogonal init ----------------------------------------
def largest_singular_value(weight: torch.Tensor) -> float:
    return torch.linalg.matrix_norm(weight.detach().flatten(1), ord=2).item()


def with_singular_values(shape: torch.Size, top: float) -> torch.Tensor:
    """A random weight whose (out, rest) matrix has singular values top * 2^-i.

    The gap between the first two makes power iteration converge quickly.
    """
    u, s, vh = torch.linalg.svd(torch.randn(shape[0], shape[1:].numel()),
                                full_matrices=False)
    s = top * 0.5**torch.arange(len(s), dtype=torch.float32)
    return (u * s @ vh).view(shape)


@pytest.mark.parametrize('make, in_shape', [
    (lambda: linear(6, 4), (5, 6)),
    (lambda: conv2d(3, 5), (2, 3, 6, 6)),
    (lambda: conv3d(3, 5), (2, 3, 3, 6, 6)),
])
def test_spectral_norm_scales_the_largest_singular_value_to_one(make, in_shape):
    layer = make().train()
    original = layer.parametrizations.weight.original
    with torch.no_grad():  # a weight far from unit spectral norm
        original.copy_(with_singular_values(original.shape, top=5.0))
    assert largest_singular_value(original) == pytest.approx(5.0, rel=1e-4)
    x = torch.randn(in_shape)
    for _ in range(30):  # one power iteration per training forward
        layer(x)
    assert largest_singular_value(layer.weight) == pytest.approx(1.0, abs=1e-3)


def test_orthogonal_init_without_spectral_norm():
    layer = linear(8, 8, use_spectral_norm=False)
    assert not hasattr(layer, 'parametrizations')
    w = layer.weight.detach()
    torch.testing.assert_close(w @ w.T, torch.eye(8), atol=1e-5, rtol=0)
    torch.testing.assert_close(layer.bias.detach(), torch.zeros(8))
    # a conv's (out, in * k * k) matrix has orthonormal rows
    conv = conv2d(3, 5, use_spectral_norm=False)
    m = conv.weight.detach().flatten(1)
    torch.testing.assert_close(m @ m.T, torch.eye(5), atol=1e-5, rtol=0)
