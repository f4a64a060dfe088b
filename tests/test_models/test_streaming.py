"""Sampling long videos: per-length BatchNorm statistics (appendix A) and streaming.

Section 2, "Inference": an upsampling level runs over the whole previous-level
output. Its per-frame statistics are recomputed for that length
(``LengthStatistics``: cached per length, in use inside ``at_length``, the
generator left as trained), and the video can be made in chunks
(``stream_upsample``) because the generator is convolutional in time. The level
is the demo level 2 (``configs/hvg/demo_l2_clips.py``: 4/32x32 -> 8/64x64, 5
units, temporal factor 2) at tiny width, sampled over 24 input frames (48
output frames); a second, direct ``UpsamplingGenerator`` has temporal factor 4,
where the halo must be rounded up to whole input frames.
"""
import copy
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Tuple

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope

import hvg.models  # noqa: F401 (registers)
from hvg.models.generators import (LengthStatistics, Level1Generator,
                                   UpsamplingGenerator, Window,
                                   accumulate_statistics_windowed,
                                   default_chunk_frames, stream_upsample, temporal_halo,
                                   plan_windows, temporal_radius, upsample_chunks)
from hvg.models.layers import (FrameBatchNorm, frame_batch_norms, use_frame_offset,
                               use_statistics)
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


def demo_l2_generator(**overrides) -> UpsamplingGenerator:
    init_default_scope('hvg')
    model = tiny_l2_config().model  # the generator alone, with the level's classes
    return MODELS.build(dict(model.generator, num_classes=model.num_classes, **overrides))


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


def scramble_statistics(statistics: Iterable[Tuple[torch.Tensor, torch.Tensor]],
                        seed: int = 0) -> None:
    """Statistics that differ clearly from frame to frame: a window that used the
    wrong frames' statistics could not pass for the right one."""
    rng = torch.Generator().manual_seed(seed)
    for mean, var in statistics:
        mean.copy_(0.3 * torch.randn(mean.shape, generator=rng))
        var.copy_(0.5 + torch.rand(var.shape, generator=rng))


def buffers_of(norm: FrameBatchNorm) -> List[Tuple[torch.Tensor, torch.Tensor]]:
    return [(norm.running_mean, norm.running_var)]


@contextmanager
def unrolled(generator: UpsamplingGenerator, num_frames: int
             ) -> Iterator[UpsamplingGenerator]:
    """``generator`` in eval mode with (scrambled) statistics for ``num_frames``
    frames in use."""
    stats = LengthStatistics(generator)
    stats.prepare(num_frames, inputs_for(generator, num_frames), num_passes=2, seed=0)
    scramble_statistics(stats[num_frames].values())
    generator.eval()
    with stats.at_length(num_frames):
        yield generator


@pytest.fixture(params=['demo_l2', 'factor4'])
def long_generator(request) -> Iterator[Tuple[UpsamplingGenerator, Tuple]]:
    """A generator sampling a long video, and one input of that length."""
    if request.param == 'demo_l2':
        generator, frames = demo_l2_generator(), LONG_FRAMES
    else:
        generator, frames = factor4_generator(), 32
    with unrolled(generator, frames):
        yield generator, inputs_for(generator, frames)()


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a - b).abs().max().item()


# --- FrameBatchNorm windows -----------------------------------------------------------
def test_frame_bn_window_uses_the_statistics_of_its_frames():
    T, C = 6, 3
    bn = FrameBatchNorm(C, T).eval()
    scramble_statistics(buffers_of(bn))
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
    with unrolled(demo_l2_generator(), LONG_FRAMES) as generator:
        noise, lowres, labels = inputs_for(generator, LONG_FRAMES)()
        # 3 input frames make 6 output frames: past the end if they start 4 before it
        start = LONG_FRAMES - 4
        with pytest.raises(ValueError, match=rf'output frames \[{start}, {start + 6}\)'):
            generator(noise, lowres[:, :, 7:10], labels, frame_offset=start)
        with pytest.raises(ValueError, match='multiple of temporal_factor=2'):
            generator(noise, lowres[:, :, :3], labels, frame_offset=1)
        assert all(n.frame_offset is None for n in frame_batch_norms(generator))
    # at the training length, a window must end within its 8 frames
    with pytest.raises(ValueError, match=r'output frames \[4, 10\)'):
        generator(noise, lowres[:, :, 2:5], labels, frame_offset=4)


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
    with unrolled(demo_l2_generator(), LONG_FRAMES) as generator:
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


@pytest.mark.parametrize('padding_mode', ['reflect', 'replicate'])
def test_streaming_is_exact_whatever_the_spatial_padding(padding_mode):
    """Spatial padding modes pad space only: time stays zero-padded, so the
    halo and the exact stitching hold as with the paper's zeros."""
    with unrolled(demo_l2_generator(padding_mode=padding_mode), LONG_FRAMES) as generator:
        noise, lowres, labels = inputs_for(generator, LONG_FRAMES)()
        whole = generator(noise, lowres, labels)
        video = stream_upsample(generator, noise, lowres, labels, 10)
    assert max_diff(video, whole) <= TOL


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
    with unrolled(demo_l2_generator(), LONG_FRAMES) as generator:
        # sampling 48 frames, the generator is still the 8-frame one it was trained as
        assert generator.num_frames == TRAIN_FRAMES
        assert generator.statistics_frames == LONG_FRAMES
        assert default_chunk_frames(generator) == max(TRAIN_FRAMES, 2 * 10) == 20
    assert default_chunk_frames(UpsamplingGenerator(48, 128, 32, base_channels=1)) == 48


def test_streaming_equals_the_whole_video_with_factor_4():
    with unrolled(factor4_generator(), 32) as generator:
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
    with unrolled(demo_l2_generator(), LONG_FRAMES) as generator:
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
    with unrolled(demo_l2_generator(), LONG_FRAMES) as generator:
        noise, lowres, labels = inputs_for(generator, LONG_FRAMES)()
        with pytest.raises(ValueError, match='chunk_frames=5 must be a positive multiple'):
            stream_upsample(generator, noise, lowres, labels, 5)
        with pytest.raises(ValueError, match='lowres must be'):  # statistics for 48 frames
            stream_upsample(generator, noise, torch.cat([lowres, lowres], 2), labels, 4)
        generator.train()
        with pytest.raises(RuntimeError, match='eval mode'):
            stream_upsample(generator, noise, lowres, labels, 4)
    generator.eval()
    # outside the context the statistics are the training length's: 48 frames refused
    # before any window runs
    with pytest.raises(ValueError, match=r'lowres must be .*8 frames of BatchNorm'):
        stream_upsample(generator, noise, lowres, labels, 4)


def test_level_sample_streams_with_chunk_frames():
    init_default_scope('hvg')
    level = MODELS.build(tiny_l2_config().model).eval()
    stats = LengthStatistics(level.generator)
    stats.prepare(LONG_FRAMES, inputs_for(level.generator, LONG_FRAMES), num_passes=2,
                  seed=0)
    lowres = torch.rand(BATCH, 3, LONG_FRAMES // 2, IN_SIZE, IN_SIZE) * 2 - 1
    labels = torch.tensor([0, 2])
    rng_state = torch.get_rng_state()
    with stats.at_length(LONG_FRAMES):
        whole = level.sample(lowres, labels=labels, seed=3)
        for chunk_frames in (6, 8):
            streamed = level.sample(lowres, labels=labels, seed=3,
                                    chunk_frames=chunk_frames)
            assert streamed.shape == (BATCH, 3, LONG_FRAMES, 64, 64)
            assert max_diff(streamed, whole) <= TOL
    assert torch.equal(torch.get_rng_state(), rng_state)


# --- recomputed statistics: values, seed, cache ---------------------------------------
Stats = Dict[str, Tuple[torch.Tensor, torch.Tensor]]


def buffers(generator: nn.Module) -> Stats:
    """The generator's own (training-length) statistics, copied."""
    return {name: (m.running_mean.clone(), m.running_var.clone())
            for name, m in generator.named_modules() if isinstance(m, FrameBatchNorm)}


def same_statistics(a: Stats, b: Stats) -> bool:
    return a.keys() == b.keys() and all(
        torch.equal(a[k][0], b[k][0]) and torch.equal(a[k][1], b[k][1]) for k in a)


def same_state(a: Dict[str, torch.Tensor], b: Dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def count_passes(generator: nn.Module) -> List[int]:
    calls: List[int] = []
    generator.register_forward_hook(lambda m, args, out: calls.append(out.shape[2]))
    return calls


def test_recomputed_statistics_are_the_average_of_the_passes_and_seeded():
    fresh = demo_l2_generator()
    first, again, other = (copy.deepcopy(fresh) for _ in range(3))
    named = [(n, m) for n, m in first.named_modules() if isinstance(m, FrameBatchNorm)]
    seen: Dict[str, List[torch.Tensor]] = {name: [] for name, _ in named}
    for name, norm in named:
        norm.register_forward_pre_hook(
            lambda m, args, name=name: seen[name].append(args[0].detach().clone()))

    rng_state = torch.get_rng_state()
    passes = 3
    stats = {}
    for generator, seed in ((first, 7), (again, 7), (other, 8)):
        stats[generator] = LengthStatistics(generator)
        assert stats[generator].prepare(LONG_FRAMES, inputs_for(generator, LONG_FRAMES),
                                        num_passes=passes, seed=seed)
    assert torch.equal(torch.get_rng_state(), rng_state), 'the global RNG is untouched'

    # (T_new, C) statistics: per frame, the plain average of the passes' batch stats
    long = stats[first][LONG_FRAMES]
    for name, norm in named:
        mean, var = long[name]
        assert mean.shape == var.shape == (LONG_FRAMES, norm.num_features)
        xs = seen[name]
        assert len(xs) == passes
        means = torch.stack([x.mean(dim=(0, 3, 4)) for x in xs]).mean(0)
        variances = torch.stack([x.var(dim=(0, 3, 4)) for x in xs]).mean(0)
        torch.testing.assert_close(mean, means, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(var, variances, rtol=1e-4, atol=1e-5)
    # frames differ (the low-res residuals differ per frame): statistics per frame
    out_mean = long['out_norm'][0]
    assert not torch.allclose(out_mean[0], out_mean[1])
    # the generator itself is as built: 8-frame buffers, untouched
    assert same_state(first.state_dict(), fresh.state_dict())
    assert first.out_norm.running_mean.shape[0] == first.num_frames == TRAIN_FRAMES

    # the same seed gives the same statistics; another seed others
    assert same_statistics(long, stats[again][LONG_FRAMES])
    assert not same_statistics(long, stats[other][LONG_FRAMES])
    # without a seed the global RNG is drawn from
    LengthStatistics(fresh).prepare(LONG_FRAMES, inputs_for(fresh, LONG_FRAMES),
                                    num_passes=1)
    assert not torch.equal(torch.get_rng_state(), rng_state)


@pytest.mark.parametrize('make_generator,frames,chunks', [
    (demo_l2_generator, LONG_FRAMES, (2, 10, 20)),
    (factor4_generator, 32, (4, 12)),
])
def test_windowed_statistics_equal_whole_video_statistics(make_generator, frames, chunks):
    """Appendix A's dummy passes run window by window (constant memory) give the
    whole-video passes' statistics: per frame, batch statistics are local in time."""
    fresh = make_generator().eval()
    whole = LengthStatistics(copy.deepcopy(fresh))
    whole.prepare(frames, inputs_for(fresh, frames), num_passes=2, seed=5)
    expected = whole[frames]
    for chunk in chunks:
        windowed = copy.deepcopy(fresh)
        passes = count_passes(windowed)
        stats = LengthStatistics(windowed)
        stats.prepare(frames, inputs_for(windowed, frames), num_passes=2, seed=5,
                      chunk_frames=chunk)
        got = stats[frames]
        assert got.keys() == expected.keys()
        for name in expected:
            for a, b in zip(got[name], expected[name]):
                assert max_diff(a, b) <= TOL, (chunk, name)
        plan = plan_windows(frames, windowed.temporal_factor, chunk,
                            temporal_halo(windowed))
        assert len(passes) == 2 * len(plan) and len(plan) > 1
        assert all(not m.training for m in windowed.modules()), 'modes as they were'
    # the halo is what makes it exact: one input frame less and it is not
    diffs = {}
    inputs = inputs_for(fresh, frames)()
    for halo in (temporal_halo(fresh), temporal_halo(fresh) - fresh.temporal_factor,
                 None):
        generator = copy.deepcopy(fresh)
        supplied = {name: (torch.zeros(frames, m.num_features),
                           torch.ones(frames, m.num_features))
                    for name, m in generator.named_modules()
                    if isinstance(m, FrameBatchNorm)}
        for norm in frame_batch_norms(generator):
            norm.train()
            norm.momentum = 1.0  # one pass: the running stats are its batch stats
        with use_statistics(generator, supplied):
            if halo is None:
                generator(*inputs)
            else:
                accumulate_statistics_windowed(generator, *inputs,
                                               chunk_frames=chunks[0], halo=halo)
        diffs[halo] = supplied
    halo = temporal_halo(fresh)
    exact, short = (max(max_diff(diffs[h][n][i], diffs[None][n][i])
                        for n in expected for i in (0, 1))
                    for h in (halo, halo - fresh.temporal_factor))
    assert exact <= TOL
    assert short > 100 * exact and short > 10 * TOL, (exact, short)


def test_statistics_are_cached_per_length():
    generator = demo_l2_generator().eval()
    scramble_statistics((m.running_mean, m.running_var)
                        for m in frame_batch_norms(generator))  # "trained" statistics
    trained = generator.state_dict()
    trained = {k: v.clone() for k, v in trained.items()}
    calls = count_passes(generator)
    make = {n: inputs_for(generator, n) for n in (TRAIN_FRAMES, 16, LONG_FRAMES)}
    noise, lowres, labels = make[LONG_FRAMES]()
    stats = LengthStatistics(generator)
    assert stats.trained_frames == TRAIN_FRAMES and stats.lengths == []

    assert stats.prepare(LONG_FRAMES, make[LONG_FRAMES], 3, seed=1)
    assert calls == [LONG_FRAMES] * 3
    with stats.at_length(LONG_FRAMES):
        long_video = generator(noise, lowres, labels)

    # the training length: the generator's own statistics, no pass
    assert not stats.prepare(TRAIN_FRAMES, make[TRAIN_FRAMES], 3)
    assert len(calls) == 4
    short = tuple(x[:, :, :TRAIN_FRAMES // 2] if x.ndim == 5 else x
                  for x in (noise, lowres)) + (labels, )
    with stats.at_length(TRAIN_FRAMES):
        assert torch.equal(generator(*short), generator(*short))
        assert generator.statistics_frames == TRAIN_FRAMES

    # back to the long one: no pass, the same statistics, the same video
    assert not stats.prepare(LONG_FRAMES, make[LONG_FRAMES], 3)
    assert len(calls) == 6
    with stats.at_length(LONG_FRAMES):
        assert torch.equal(generator(noise, lowres, labels), long_video)

    # a new length pays; refresh pays again
    assert stats.prepare(16, make[16], 2, seed=1)
    assert stats.prepare(16, make[16], 2, seed=1, refresh=True)
    assert calls[7:] == [16] * 4
    assert stats.lengths == [16, LONG_FRAMES]
    assert 16 in stats and TRAIN_FRAMES in stats and 24 not in stats
    # and through it all the generator stayed as it was
    assert generator.num_frames == TRAIN_FRAMES and generator.input_frames == 4
    assert same_state(generator.state_dict(), trained)
    assert all(n.supplied_statistics is None for n in frame_batch_norms(generator))


def test_sampling_at_another_length_leaves_the_generator_as_trained():
    """``at_length`` supplies the statistics for its block only: the state dict
    (the checkpoint) is bit-identical afterwards, whatever happened inside,
    streaming and errors included."""
    generator = demo_l2_generator().eval()
    before = {k: v.clone() for k, v in generator.state_dict().items()}
    stats = LengthStatistics(generator)
    stats.prepare(LONG_FRAMES, inputs_for(generator, LONG_FRAMES), 2, seed=0,
                  chunk_frames=10)
    noise, lowres, labels = inputs_for(generator, LONG_FRAMES)()
    with stats.at_length(LONG_FRAMES):
        assert generator(noise, lowres, labels).shape[2] == LONG_FRAMES
        stream_upsample(generator, noise, lowres, labels, 10)
    with pytest.raises(RuntimeError, match='inside'), stats.at_length(LONG_FRAMES):
        raise RuntimeError('inside')
    assert same_state(generator.state_dict(), before)
    assert generator.num_frames == TRAIN_FRAMES
    assert all(n.supplied_statistics is None and n.num_frames == TRAIN_FRAMES
               for n in frame_batch_norms(generator))
    # the training length's samples are those of the untouched generator
    short_noise, short_lowres, _ = inputs_for(generator, TRAIN_FRAMES)()
    fresh = demo_l2_generator().eval()
    fresh.load_state_dict(before)
    assert torch.equal(generator(short_noise, short_lowres, labels),
                       fresh(short_noise, short_lowres, labels))


def test_at_length_refusals_and_loading_statistics():
    generator = demo_l2_generator()
    stats = LengthStatistics(generator)
    with pytest.raises(KeyError, match='no BatchNorm statistics for 48 frames'):
        with stats.at_length(LONG_FRAMES):
            pass
    stats.prepare(LONG_FRAMES, inputs_for(generator, LONG_FRAMES), 1, seed=0)
    with pytest.raises(RuntimeError, match='eval mode'):  # would update the cache
        with stats.at_length(LONG_FRAMES):
            pass
    with pytest.raises(ValueError, match='num_passes must be >= 1'):
        stats.prepare(16, inputs_for(generator, 16), 0)

    # statistics computed elsewhere (another process: tools/analysis/benchmark_unroll.py)
    generator.eval()
    copied = {k: (m.clone(), v.clone()) for k, (m, v) in stats[LONG_FRAMES].items()}
    other = LengthStatistics(copy.deepcopy(generator))
    other[LONG_FRAMES] = copied
    noise, lowres, labels = inputs_for(generator, LONG_FRAMES)()
    with stats.at_length(LONG_FRAMES), other.at_length(LONG_FRAMES):
        assert torch.equal(generator(noise, lowres, labels),
                           other.generator(noise, lowres, labels))
    with pytest.raises(ValueError, match='training length'):
        other[TRAIN_FRAMES] = stats[TRAIN_FRAMES]
    with pytest.raises(ValueError, match='for 48 frames given for 16'):
        other[16] = copied
    with pytest.raises(ValueError, match='missing'):
        other[LONG_FRAMES] = {k: v for k, v in list(copied.items())[1:]}
    with pytest.raises(ValueError, match='one T'):
        other[LONG_FRAMES] = dict(copied, out_norm=tuple(x[:8] for x in copied['out_norm']))


def test_level1_samples_other_lengths_from_its_num_frames_argument():
    generator = Level1Generator(4, 8, base_channels=2, channel_mults=(1, 1), noise_dim=8)
    before = {k: v.clone() for k, v in generator.state_dict().items()}
    stats = LengthStatistics(generator)

    def make_inputs():
        return torch.randn(BATCH, 8), None, 10

    assert stats.prepare(10, make_inputs, 2, seed=0)
    generator.eval()
    noise = torch.randn(BATCH, 8)
    assert generator(noise).shape[2] == 4  # the training length by default
    with stats.at_length(10):
        assert generator(noise, None, 10).shape == (BATCH, 3, 10, 8, 8)
        with pytest.raises(ValueError, match='statistics for 10 frames.*4 frames'):
            generator(noise)
    assert same_state(generator.state_dict(), before)


def test_live_statistics_are_used_at_the_training_length():
    """Training at the training length moves its statistics: sampling there uses
    them as they are now, whatever lengths were prepared before."""
    generator = demo_l2_generator()
    stats = LengthStatistics(generator)
    make_short = inputs_for(generator, TRAIN_FRAMES)
    stats.prepare(LONG_FRAMES, inputs_for(generator, LONG_FRAMES), 1, seed=0)
    generator(*make_short())  # a training step's forward pass (train mode)
    generator.eval()
    moved = buffers(generator)
    assert same_statistics(stats[TRAIN_FRAMES], moved)
    inputs = make_short()
    with stats.at_length(LONG_FRAMES):
        pass
    with stats.at_length(TRAIN_FRAMES):
        video = generator(*inputs)
    fresh = demo_l2_generator().eval()
    fresh.load_state_dict(generator.state_dict())
    assert torch.equal(video, fresh(*inputs))


def test_a_failed_recomputation_keeps_nothing():
    generator = demo_l2_generator()
    before = {k: v.clone() for k, v in generator.state_dict().items()}
    stats = LengthStatistics(generator)
    make = inputs_for(generator, LONG_FRAMES)
    calls = []

    def failing_inputs():
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError('interrupted')
        return make()

    with pytest.raises(RuntimeError, match='interrupted'):
        stats.prepare(LONG_FRAMES, failing_inputs, 3)
    assert LONG_FRAMES not in stats and stats.lengths == []
    assert generator.num_frames == TRAIN_FRAMES
    assert same_state(generator.state_dict(), before)
    norms = frame_batch_norms(generator)
    assert all(n.momentum == 0.1 and n.supplied_statistics is None for n in norms)
    assert all(m.training for m in generator.modules()), 'modes as they were'


def test_statistics_passes_are_local_and_keep_the_sync_switch():
    """Dummy passes are a seeded per-process estimate: synchronised BatchNorm is
    off during them (each rank computes the same statistics alone) and back on
    after."""
    from hvg.models.layers import convert_sync_frame_bn
    generator = convert_sync_frame_bn(demo_l2_generator())
    seen = []
    for norm in frame_batch_norms(generator):
        norm.register_forward_pre_hook(lambda m, args: seen.append(m.sync))
    LengthStatistics(generator).prepare(16, inputs_for(generator, 16), 1, seed=0)
    assert seen and not any(seen)
    assert all(n.sync for n in frame_batch_norms(generator))
