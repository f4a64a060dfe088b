"""Sampling long videos: per-length BatchNorm statistics (appendix A) and streaming.

Section 2, "Inference": an upsampling level runs over the whole previous-level
output. Its per-frame statistics are recomputed for that length
(``unroll_generator``, cached per length), and the video can be made in chunks
(``stream_upsample``) because the generator is convolutional in time. The level
is the demo level 2 (``configs/hvg/demo_l2_clips.py``: 4/32x32 -> 8/64x64, 5
units, temporal factor 2) at tiny width, unrolled over 24 input frames (48
output frames); a second, direct ``UpsamplingGenerator`` has temporal factor 4,
where the halo must be rounded up to whole input frames.
"""
import copy
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope

import hvg.models  # noqa: F401 (registers)
from hvg.models.generators import (Level1Generator, UpsamplingGenerator, Window,
                                   accumulate_statistics_windowed,
                                   default_chunk_frames, frame_batch_norms,
                                   frame_stats_cache, stream_upsample, temporal_halo,
                                   plan_windows, temporal_radius,
                                   trained_num_frames, unroll_generator,
                                   upsample_chunks)
from hvg.models.layers import FrameBatchNorm
from hvg.models.layers.conditional_bn import use_frame_offset
from hvg.registry import MODELS

L2_CONFIG = Path(__file__).resolve().parents[2] / 'configs' / 'hvg' / 'demo_l2_clips.py'
BATCH = 2
# demo level 2: trained on 4 -> 8 frames; sampled here over 24 -> 48 frames
TRAIN_FRAMES, LONG_FRAMES, IN_SIZE, UNITS = 8, 48, 32, 5
TOL = 1e-5


# --- building -------------------------------------------------------------------------
def tiny_l2_config() -> Config:
    cfg = Config.fromfile(str(L2_CONFIG))
    cfg.merge_from_dict({
        # the paper's conditioning (spectral norm everywhere), not the demo's
        # plain, zero-initialised layers: the negative controls below need the
        # condition's full effect at initialisation to be 100x the tolerance
        'model.generator.embed_spectral_norm': True,
        'model.generator.cbn_spectral_norm': True,
        'model.generator.residual_spectral_norm': True,
        'model.generator.base_channels': 2,
        'model.discriminator.spatial.base_channels': 2,
        'model.discriminator.temporal.base_channels': 2,
        'model.discriminator.matching.base_channels': 2,
    })
    return cfg


def demo_l2_generator() -> UpsamplingGenerator:
    init_default_scope('hvg')
    return MODELS.build(tiny_l2_config().model.generator)


def factor4_generator() -> UpsamplingGenerator:
    """3 units (radius 6) and temporal factor 4: the halo rounds up to 8."""
    return UpsamplingGenerator(num_frames=8, out_size=16, in_size=8, temporal_factor=4,
                               base_channels=2, channel_mults=(2, 2, 1), noise_dim=8)


def inputs_for(generator: UpsamplingGenerator, num_frames: int,
               batch: int = BATCH) -> Callable[[], Tuple]:
    """Random ``(noise, lowres, labels)`` for ``num_frames`` output frames, global RNG."""
    def make_inputs():
        lowres = torch.rand(batch, 3, num_frames // generator.temporal_factor,
                            generator.in_size, generator.in_size) * 2 - 1
        labels = (torch.randint(generator.num_classes, (batch, ))
                  if generator.num_classes else None)
        return torch.randn(batch, generator.noise_dim), lowres, labels
    return make_inputs


def scramble_statistics(generator: nn.Module, seed: int = 0) -> None:
    """Statistics that differ clearly from frame to frame: a window that used the
    wrong frames' statistics could not pass for the right one."""
    rng = torch.Generator().manual_seed(seed)
    for norm in frame_batch_norms(generator):
        shape = norm.running_mean.shape
        norm.running_mean.copy_(0.3 * torch.randn(shape, generator=rng))
        norm.running_var.copy_(0.5 + torch.rand(shape, generator=rng))


def unrolled(generator: UpsamplingGenerator, num_frames: int) -> UpsamplingGenerator:
    unroll_generator(generator, num_frames, inputs_for(generator, num_frames),
                     num_passes=2, seed=0)
    scramble_statistics(generator)
    return generator.eval()


@pytest.fixture(params=['demo_l2', 'factor4'])
def long_generator(request) -> Tuple[UpsamplingGenerator, Tuple]:
    """A generator set to a long video, and one input of that length."""
    if request.param == 'demo_l2':
        generator = unrolled(demo_l2_generator(), LONG_FRAMES)
    else:
        generator = unrolled(factor4_generator(), 32)
    return generator, inputs_for(generator, generator.num_frames)()


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item()


# --- FrameBatchNorm windows -----------------------------------------------------------
def test_frame_bn_window_uses_the_statistics_of_its_frames():
    T, C = 6, 3
    bn = FrameBatchNorm(C, T).eval()
    scramble_statistics(bn)
    x = torch.randn(2, T, C, 4, 4)
    whole = bn(x)
    with use_frame_offset(bn, 2):
        assert bn.frame_offset == 2
        torch.testing.assert_close(bn(x[:, 2:5]), whole[:, 2:5])
        torch.testing.assert_close(bn(x[:, 2:]), whole[:, 2:])
        with pytest.raises(ValueError, match=r'frames \[2, 7\), outside the 6 frames'):
            bn(x[:, :5])
    assert bn.frame_offset is None, 'restored on exit'
    with pytest.raises(ValueError, match='statistics for 6 frames'):
        bn(x[:, :3])  # the default still wants the whole video

    # in training mode a window updates its own frames' statistics only
    bn.train()
    before = bn.running_mean.clone()
    with use_frame_offset(bn, 2):
        bn(x[:, 2:5])
    changed = (bn.running_mean != before).any(dim=1)
    assert changed.tolist() == [False, False, True, True, True, False]
    with pytest.raises(ValueError, match=r'frames \[4, 7\)'), use_frame_offset(bn, 4):
        bn(x[:, :3])
    assert bn.frame_offset is None, 'restored after an error too'


def test_generator_windows_are_checked():
    generator = unrolled(demo_l2_generator(), LONG_FRAMES)
    noise, lowres, labels = inputs_for(generator, LONG_FRAMES)()
    # 3 input frames make 6 output frames: past the end if they start 4 before it
    start = LONG_FRAMES - 4
    with pytest.raises(ValueError, match=rf'output frames \[{start}, {start + 6}\)'):
        generator(noise, lowres[:, :, 7:10], labels, frame_offset=start)
    with pytest.raises(ValueError, match='multiple of temporal_factor=2'):
        generator(noise, lowres[:, :, :3], labels, frame_offset=1)
    assert all(n.frame_offset is None for n in frame_batch_norms(generator))


# --- the temporal receptive field -----------------------------------------------------
def test_temporal_halo_follows_the_architecture():
    demo = demo_l2_generator()
    # two kernel-3 temporal convs per GenResBlock3dSeparable, one block per unit
    assert temporal_radius(demo) == 2 * UNITS == 10
    assert temporal_halo(demo) == 10  # already whole input frames (factor 2)
    factor4 = factor4_generator()
    assert temporal_radius(factor4) == 6
    assert temporal_halo(factor4) == 8  # rounded up to two input frames
    # paper level 2 (6 units, factor 2), from its config
    assert temporal_halo(UpsamplingGenerator(12, 128, 32, base_channels=1)) == 12
    with pytest.raises(ValueError, match='recurrent'):
        temporal_radius(Level1Generator(4, 8, base_channels=1, channel_mults=(1, 1)))


def test_a_window_alone_gives_the_whole_output_beyond_the_radius(long_generator):
    """The receptive-field argument, measured: a window's output frame equals the
    whole video's exactly when it is at least ``temporal_radius`` frames from the
    window's inner edges (or the window reaches the video's edge); one frame
    closer and it differs. So the radius is neither too small nor too large."""
    generator, (noise, lowres, labels) = long_generator
    factor, radius = generator.temporal_factor, temporal_radius(generator)
    in_frames = lowres.shape[2]
    whole = generator(noise, lowres, labels)
    windows = [(0, in_frames // 2), (1, in_frames - 1), (in_frames // 3, in_frames)]
    for first, last in windows:
        offset = first * factor
        window = generator(noise, lowres[:, :, first:last], labels, frame_offset=offset)
        assert window.shape[2] == (last - first) * factor
        for t in range(window.shape[2]):
            frame = offset + t
            # distance to the window's edges inside the video (beyond the video's
            # true edges both passes pad with the same zeros)
            left = t if first > 0 else float('inf')
            right = window.shape[2] - 1 - t if last < in_frames else float('inf')
            diff = max_diff(window[:, :, t], whole[:, :, frame])
            if min(left, right) >= radius:
                assert diff <= TOL, f'window {first}:{last}, frame {frame}: {diff}'
            elif min(left, right) == radius - 1:
                assert diff > 100 * TOL, f'frame {frame} sees past its window'


# --- streaming ------------------------------------------------------------------------
@pytest.mark.parametrize('chunk_frames', [2, 4, 10, 24, 48, 60, None])
def test_streaming_equals_the_whole_video(chunk_frames):
    """Chunks that divide the length or not, one chunk, longer than the video,
    and the default; each pass sees at most its chunk plus a halo either side."""
    generator = unrolled(demo_l2_generator(), LONG_FRAMES)
    noise, lowres, labels = inputs_for(generator, LONG_FRAMES)()
    whole = generator(noise, lowres, labels)
    windows: List[int] = []
    generator.register_forward_pre_hook(
        lambda m, args: windows.append(args[1].shape[2]))
    video = stream_upsample(generator, noise, lowres, labels, chunk_frames)
    assert video.shape == whole.shape == (BATCH, 3, LONG_FRAMES, 64, 64)
    assert max_diff(video, whole) <= TOL

    chunk = chunk_frames or default_chunk_frames(generator)
    halo = temporal_halo(generator)
    plan = plan_windows(LONG_FRAMES, 2, chunk, halo)
    assert len(windows) == len(plan)
    # every pass is as long as the longest: memory does not depend on the length
    assert set(windows) == {min(chunk + 2 * halo, LONG_FRAMES) // 2}


@pytest.mark.parametrize('factor', [1, 2, 4])
def test_window_plans_cover_the_video_once_with_equal_passes(factor):
    """Every output frame is kept from exactly one pass, at least a halo away from
    that pass's inner edges; every pass is ``chunk + 2 * halo`` frames long
    (or the whole video), so 480 frames cost the memory of 48."""
    for out_frames in range(factor, 30 * factor, factor):
        for chunk in (factor, 2 * factor, 5 * factor):
            for halo in (0, factor, 3 * factor):
                plan = plan_windows(out_frames, factor, chunk, halo)
                span = min(chunk + 2 * halo, out_frames)
                kept: List[int] = []
                for start, stop, first, last in plan:
                    lo, hi = first * factor, last * factor
                    assert hi - lo == span and 0 <= lo and hi <= out_frames
                    assert start - lo >= halo or lo == 0
                    assert hi - stop >= halo or hi == out_frames
                    if 0 < lo and hi < out_frames:
                        assert stop - start == chunk  # an interior pass
                    kept += range(start, stop)
                assert kept == list(range(out_frames)), (out_frames, chunk, halo)
    # the paper's level 2 at 48 frames (chunk 24, halo 12): one pass of 48 frames;
    # at 480: passes of 48 frames keeping 36 at the ends and 24 inside
    assert plan_windows(48, 2, 24, 12) == [Window(0, 48, 0, 24)]
    long_plan = plan_windows(480, 2, 24, 12)
    assert long_plan[0] == Window(0, 36, 0, 24) and long_plan[-1] == Window(444, 480, 216, 240)
    assert len(long_plan) == 2 + (480 - 2 * 36) // 24 == 19


def test_default_chunk_is_the_training_length_or_twice_the_halo():
    generator = unrolled(demo_l2_generator(), LONG_FRAMES)
    assert trained_num_frames(generator) == TRAIN_FRAMES
    assert default_chunk_frames(generator) == max(TRAIN_FRAMES, 2 * 10) == 20
    assert default_chunk_frames(UpsamplingGenerator(48, 128, 32, base_channels=1)) == 48


def test_streaming_equals_the_whole_video_with_factor_4():
    generator = unrolled(factor4_generator(), 32)
    noise, lowres, labels = inputs_for(generator, 32)()
    whole = generator(noise, lowres, labels)
    for chunk_frames in (4, 8, 12, 40):
        video = stream_upsample(generator, noise, lowres, labels, chunk_frames)
        assert max_diff(video, whole) <= TOL, chunk_frames


def test_a_halo_one_input_frame_smaller_is_not_enough(long_generator):
    generator, (noise, lowres, labels) = long_generator
    whole = generator(noise, lowres, labels)
    factor, halo = generator.temporal_factor, temporal_halo(generator)
    chunk = 2 * factor  # many chunk edges
    exact = stream_upsample(generator, noise, lowres, labels, chunk, halo=halo)
    assert max_diff(exact, whole) <= TOL
    short = stream_upsample(generator, noise, lowres, labels, chunk, halo=halo - factor)
    assert max_diff(short, whole) > 100 * TOL


def test_chunks_can_be_consumed_one_at_a_time():
    generator = unrolled(demo_l2_generator(), LONG_FRAMES)
    noise, lowres, labels = inputs_for(generator, LONG_FRAMES)()
    whole = generator(noise, lowres, labels)
    kept = []
    for start, frames in upsample_chunks(generator, noise, lowres, labels, 10):
        kept.append((start, start + frames.shape[2]))
        assert max_diff(frames, whole[:, :, start:start + frames.shape[2]]) <= TOL
    halo = temporal_halo(generator)
    assert kept == [(w.start, w.stop) for w in plan_windows(LONG_FRAMES, 2, 10, halo)]
    assert kept[0] == (0, 20) and kept[1] == (20, 30) and kept[-1][1] == LONG_FRAMES


def test_streaming_refusals():
    generator = unrolled(demo_l2_generator(), LONG_FRAMES)
    noise, lowres, labels = inputs_for(generator, LONG_FRAMES)()
    with pytest.raises(ValueError, match='chunk_frames=5 must be a positive multiple'):
        stream_upsample(generator, noise, lowres, labels, 5)
    with pytest.raises(ValueError, match='lowres must be'):  # not unrolled to 48 frames
        stream_upsample(generator, noise, torch.cat([lowres, lowres], 2), labels, 4)
    generator.train()
    with pytest.raises(RuntimeError, match='eval mode'):
        stream_upsample(generator, noise, lowres, labels, 4)


def test_level_sample_streams_with_chunk_frames():
    init_default_scope('hvg')
    level = MODELS.build(tiny_l2_config().model).eval()
    unroll_generator(level.generator, LONG_FRAMES,
                     inputs_for(level.generator, LONG_FRAMES), num_passes=2, seed=0)
    lowres = torch.rand(BATCH, 3, LONG_FRAMES // 2, IN_SIZE, IN_SIZE) * 2 - 1
    labels = torch.tensor([0, 2])
    rng_state = torch.get_rng_state()
    whole = level.sample(lowres, labels=labels, seed=3)
    for chunk_frames in (6, 8):
        streamed = level.sample(lowres, labels=labels, seed=3, chunk_frames=chunk_frames)
        assert streamed.shape == (BATCH, 3, LONG_FRAMES, 64, 64)
        assert max_diff(streamed, whole) <= TOL
    assert torch.equal(torch.get_rng_state(), rng_state)


# --- recomputed statistics: values, seed, cache ---------------------------------------
def statistics(generator: nn.Module) -> Dict[str, Tuple[torch.Tensor, torch.Tensor]]:
    return {name: (m.running_mean.clone(), m.running_var.clone())
            for name, m in generator.named_modules() if isinstance(m, FrameBatchNorm)}


def same_statistics(a, b) -> bool:
    return a.keys() == b.keys() and all(
        torch.equal(a[k][0], b[k][0]) and torch.equal(a[k][1], b[k][1]) for k in a)


def count_passes(generator: nn.Module) -> List[int]:
    calls: List[int] = []
    generator.register_forward_hook(lambda m, args, out: calls.append(out.shape[2]))
    return calls


def test_recomputed_statistics_are_the_average_of_the_passes_and_seeded():
    fresh = demo_l2_generator()
    first, again, other = (copy.deepcopy(fresh) for _ in range(3))
    norms = frame_batch_norms(first)
    seen: Dict[int, List[torch.Tensor]] = {i: [] for i in range(len(norms))}
    for i, norm in enumerate(norms):
        norm.register_forward_pre_hook(
            lambda m, args, i=i: seen[i].append(args[0].detach().clone()))

    rng_state = torch.get_rng_state()
    passes = 3
    for generator, seed in ((first, 7), (again, 7), (other, 8)):
        unroll_generator(generator, LONG_FRAMES, inputs_for(generator, LONG_FRAMES),
                         num_passes=passes, seed=seed)
    assert torch.equal(torch.get_rng_state(), rng_state), 'the global RNG is untouched'

    # (T_new, C) statistics: per frame, the plain average of the passes' batch stats
    for i, norm in enumerate(norms):
        assert norm.running_mean.shape == (LONG_FRAMES, norm.num_features)
        assert norm.running_var.shape == (LONG_FRAMES, norm.num_features)
        xs = seen[i]
        assert len(xs) == passes
        means = torch.stack([x.mean(dim=(0, 3, 4)) for x in xs]).mean(0)
        variances = torch.stack([x.var(dim=(0, 3, 4)) for x in xs]).mean(0)
        torch.testing.assert_close(norm.running_mean, means, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(norm.running_var, variances, rtol=1e-4, atol=1e-5)
    # frames differ (the low-res residuals differ per frame): statistics per frame
    out_mean = first.out_norm.running_mean
    assert not torch.allclose(out_mean[0], out_mean[1])

    # the same seed gives the same statistics; another seed others
    assert same_statistics(statistics(first), statistics(again))
    assert not same_statistics(statistics(first), statistics(other))
    # without a seed the global RNG is drawn from
    unroll_generator(fresh, LONG_FRAMES, inputs_for(fresh, LONG_FRAMES), num_passes=1)
    assert not torch.equal(torch.get_rng_state(), rng_state)


@pytest.mark.parametrize('make_generator,frames,chunks', [
    (demo_l2_generator, LONG_FRAMES, (2, 10, 20)),
    (factor4_generator, 32, (4, 12)),
])
def test_windowed_statistics_equal_whole_video_statistics(make_generator, frames, chunks):
    """Appendix A's dummy passes run window by window (constant memory) give the
    whole-video passes' statistics: per frame, batch statistics are local in time."""
    fresh = make_generator()
    whole = copy.deepcopy(fresh)
    unroll_generator(whole, frames, inputs_for(whole, frames), num_passes=2, seed=5)
    expected = statistics(whole)
    for chunk in chunks:
        windowed = copy.deepcopy(fresh)
        passes = count_passes(windowed)
        unroll_generator(windowed, frames, inputs_for(windowed, frames), num_passes=2,
                         seed=5, chunk_frames=chunk)
        got = statistics(windowed)
        assert got.keys() == expected.keys()
        for name in expected:
            for a, b in zip(got[name], expected[name]):
                assert max_diff(a, b) <= TOL, (chunk, name)
        plan = plan_windows(frames, windowed.temporal_factor, chunk,
                            temporal_halo(windowed))
        assert len(passes) == 2 * len(plan) and len(plan) > 1
        assert all(not m.training for m in windowed.modules())
    # the halo is what makes it exact: one input frame less and it is not
    diffs = {}
    inputs = inputs_for(fresh, frames)()
    for halo in (temporal_halo(fresh), temporal_halo(fresh) - fresh.temporal_factor,
                 None):
        generator = copy.deepcopy(fresh)
        generator.num_frames = frames
        for norm in frame_batch_norms(generator):
            norm.reset_num_frames(frames)
            norm.train()
            norm.momentum = 1.0  # one pass: the running stats are its batch stats
        if halo is None:
            generator(*inputs)
        else:
            accumulate_statistics_windowed(generator, *inputs, chunk_frames=chunks[0],
                                           halo=halo)
        diffs[halo] = statistics(generator)
    exact, short = (max(max_diff(diffs[h][n][i], diffs[None][n][i])
                        for n in expected for i in (0, 1))
                    for h in (temporal_halo(fresh), temporal_halo(fresh) - fresh.temporal_factor))
    assert exact <= TOL
    assert short > 100 * exact and short > 10 * TOL, (exact, short)


def test_statistics_are_cached_per_length():
    generator = demo_l2_generator()
    scramble_statistics(generator)  # stand-in for trained statistics
    trained = statistics(generator)
    calls = count_passes(generator)
    make = {n: inputs_for(generator, n) for n in (TRAIN_FRAMES, 16, LONG_FRAMES)}

    assert unroll_generator(generator, LONG_FRAMES, make[LONG_FRAMES], 3, seed=1)
    assert calls == [LONG_FRAMES] * 3
    long_stats = statistics(generator)

    # back to the training length: restored, no pass
    assert not unroll_generator(generator, TRAIN_FRAMES, make[TRAIN_FRAMES], 3)
    assert len(calls) == 3
    assert generator.num_frames == TRAIN_FRAMES and generator.input_frames == 4
    assert same_statistics(statistics(generator), trained)
    assert all(not m.training for m in generator.modules())

    # and to the unrolled one again, still no pass
    assert not unroll_generator(generator, LONG_FRAMES, make[LONG_FRAMES], 3)
    assert len(calls) == 3
    assert same_statistics(statistics(generator), long_stats)

    # a new length pays; refresh pays again
    assert unroll_generator(generator, 16, make[16], 2, seed=1)
    assert unroll_generator(generator, 16, make[16], 2, seed=1, refresh=True)
    assert calls[3:] == [16] * 4
    assert sorted(frame_stats_cache(generator)) == [TRAIN_FRAMES, 16, LONG_FRAMES]
    assert trained_num_frames(generator) == TRAIN_FRAMES


def test_cache_keeps_the_live_statistics_of_the_length_it_leaves():
    """Training at the training length moves its statistics: leaving the length
    stores them as they are now, not as they were first cached."""
    generator = demo_l2_generator()
    make_long = inputs_for(generator, LONG_FRAMES)
    make_short = inputs_for(generator, TRAIN_FRAMES)
    unroll_generator(generator, LONG_FRAMES, make_long, 1, seed=0)
    unroll_generator(generator, TRAIN_FRAMES, make_short, 1)
    for norm in frame_batch_norms(generator):
        norm.train()
    generator(*make_short())  # a training step's forward pass
    generator.eval()
    moved = statistics(generator)
    unroll_generator(generator, LONG_FRAMES, make_long, 1)
    unroll_generator(generator, TRAIN_FRAMES, make_short, 1)
    assert same_statistics(statistics(generator), moved)


def test_a_failed_recomputation_leaves_the_previous_length():
    generator = demo_l2_generator()
    before = statistics(generator)
    make = inputs_for(generator, LONG_FRAMES)
    calls = []

    def failing_inputs():
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError('interrupted')
        return make()

    with pytest.raises(RuntimeError, match='interrupted'):
        unroll_generator(generator, LONG_FRAMES, failing_inputs, 3)
    assert generator.num_frames == TRAIN_FRAMES
    assert same_statistics(statistics(generator), before)
    assert LONG_FRAMES not in frame_stats_cache(generator)
    assert all(n.momentum == 0.1 for n in frame_batch_norms(generator))


def test_statistics_passes_are_local_and_keep_the_sync_switch():
    """Dummy passes are a seeded per-process estimate: synchronised BatchNorm is
    off during them (each rank computes the same statistics alone) and back on
    after."""
    from hvg.models.layers import convert_sync_frame_bn
    generator = convert_sync_frame_bn(demo_l2_generator())
    seen = []
    for norm in frame_batch_norms(generator):
        norm.register_forward_pre_hook(lambda m, args: seen.append(m.sync))
    unroll_generator(generator, 16, inputs_for(generator, 16), 1, seed=0)
    assert seen and not any(seen)
    assert all(n.sync for n in frame_batch_norms(generator))
