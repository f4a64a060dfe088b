"""UpsamplingLevelGAN, the paper's eq. 3: an upsampling level trained on fakes of
the frozen previous levels; and its statistics for another length
(``LengthStatistics``, appendix A).

The level is the demo level 2 (``configs/hvg/demo_l2_clips.py``) at tiny widths,
on top of a checkpoint of the demo level 1 built from its own config (a
checkpoint that stores no config: ``FrozenLevels`` builds it from the config
it names).
"""
import re
from pathlib import Path
from typing import Dict, List

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapperDict, build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import load_state_dict as mmengine_load_state_dict

import hvg.engine  # noqa: F401 (registers MultiOptimWrapperConstructor)
import hvg.models  # noqa: F401 (registers)
from hvg.models.gans import UpsamplingLevelGAN
from hvg.models.generators import LengthStatistics
from hvg.models.layers import FrameBatchNorm
from hvg.models.level_chain import random_windows
from hvg.models.lowres_sources import FrozenLevels, RealLowres, check_lowres_source
from hvg.registry import MODELS

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'configs' / 'hvg'
L1_CONFIG = CONFIG_DIR / 'demo_l1_clips.py'
L2_CONFIG = CONFIG_DIR / 'demo_l2_clips.py'
BATCH_SIZE = 2
LABELS = torch.tensor([0, 2])
# the demo level 2: 4 frames of 32x32 -> 8 frames of 64x64, over level 1's 12 frames
IN_FRAMES, IN_SIZE, OUT_FRAMES, OUT_SIZE, L1_FRAMES = 4, 32, 8, 64, 12
# train on the batch's real low-res clips (as --cfg-options would switch it)
REAL_LOWRES = {'model.lowres_source.type': 'RealLowres'}


# --- building -------------------------------------------------------------------------
@pytest.fixture(scope='module')
def l1_checkpoint(tmp_path_factory) -> Path:
    """A checkpoint of the demo level 1 as its config builds it (untrained)."""
    init_default_scope('hvg')
    level1 = MODELS.build(Config.fromfile(str(L1_CONFIG)).model)
    path = tmp_path_factory.mktemp('level1') / 'l1.pth'
    torch.save({'state_dict': level1.state_dict()}, path)
    return path


def tiny_l2_config(checkpoint=None, **overrides) -> Config:
    """The demo level 2 at tiny width, as ``--cfg-options`` would make it."""
    cfg = Config.fromfile(str(L2_CONFIG))
    cfg.merge_from_dict({
        'model.lowres_source.levels.0.checkpoint':
            None if checkpoint is None else str(checkpoint),
        'model.generator.base_channels': 2,
        'model.discriminator.spatial.base_channels': 2,
        'model.discriminator.temporal.base_channels': 2,
        'model.discriminator.matching.base_channels': 2,
        # the data flow into the discriminators, unaugmented (DiffAugment, which
        # the demo turns on, has its own tests: test_augment.py)
        'model.augment': None,
        **overrides,
    })
    return cfg


def build_level2(checkpoint=None, **overrides) -> UpsamplingLevelGAN:
    init_default_scope('hvg')
    return MODELS.build(tiny_l2_config(checkpoint, **overrides).model)


def build_with_optim(checkpoint=None, **overrides):
    cfg = tiny_l2_config(checkpoint, **overrides)
    init_default_scope('hvg')
    model = MODELS.build(cfg.model)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert isinstance(optim_wrapper, OptimWrapperDict)
    return model, optim_wrapper


@pytest.fixture
def set_iter():
    """Sets MessageHub's 'iter' as the runner would; restores it afterwards."""
    hub = MessageHub.get_current_instance()
    missing = object()
    saved = hub.runtime_info.get('iter', missing)

    def set_to(iteration):
        hub.update_info('iter', iteration)

    yield set_to
    if saved is missing:
        hub.runtime_info.pop('iter', None)
    else:
        hub.update_info('iter', saved)


def make_batch() -> dict:
    highres = torch.randint(0, 256, (BATCH_SIZE, 3, OUT_FRAMES, OUT_SIZE, OUT_SIZE),
                            dtype=torch.uint8)
    lowres = torch.randint(0, 256, (BATCH_SIZE, 3, IN_FRAMES, IN_SIZE, IN_SIZE),
                           dtype=torch.uint8)
    return dict(inputs=dict(highres=highres, lowres=lowres),
                data_samples=dict(label=LABELS.clone()))


def to_float(video: torch.Tensor) -> torch.Tensor:
    """What the data preprocessor makes of a uint8 clip."""
    return video.float().div(127.5).sub(1.0)


def state_of(module: torch.nn.Module) -> Dict[str, torch.Tensor]:
    """Parameters and buffers, cloned."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def assert_same_state(before: Dict[str, torch.Tensor], module: torch.nn.Module) -> None:
    after = module.state_dict()
    assert after.keys() == before.keys()
    changed = [k for k, v in before.items() if not torch.equal(after[k], v)]
    assert changed == [], f'{len(changed)} changed, e.g. {changed[:3]}'


def window_starts(window: torch.Tensor, video: torch.Tensor) -> List[int]:
    """Per sample, the start of the consecutive frames of ``video`` that are
    ``window`` (bitwise), or -1 when there are none."""
    length, T = window.shape[2], video.shape[2]
    starts = []
    for w, v in zip(window, video):
        found = [s for s in range(T - length + 1) if torch.equal(w, v[:, s:s + length])]
        starts.append(found[0] if found else -1)
    return starts


class Spy:
    """Records the level-1 samples, the generator's inputs and outputs, and the
    matching discriminator's inputs of a level."""

    def __init__(self, model: UpsamplingLevelGAN, monkeypatch):
        self.level1_calls: List[dict] = []
        self.gen_lowres: List[torch.Tensor] = []
        self.gen_out: List[torch.Tensor] = []
        self.matching: List[tuple] = []
        if isinstance(model.lowres_source, FrozenLevels):
            model.prepare_lowres_source()
            level1 = model.lowres_source.levels[0]
            original = level1.sample

            def sample(*args, **kwargs):
                out = original(*args, **kwargs)
                self.level1_calls.append(dict(args=args, kwargs=kwargs,
                                              out=out.detach().clone()))
                return out

            monkeypatch.setattr(level1, 'sample', sample)
        # forward(noise, lowres, labels) and forward(video, lowres, labels), positional
        model.generator.register_forward_pre_hook(
            lambda m, args: self.gen_lowres.append(args[1].detach().clone()))
        model.generator.register_forward_hook(
            lambda m, args, out: self.gen_out.append(out.detach().clone()))
        # forward(video, labels, lowres), positional from the group
        model.discriminator.matching.register_forward_pre_hook(
            lambda m, args: self.matching.append(
                (args[0].detach().clone(), args[2].detach().clone())))


# --- eq. 3: fakes from the frozen level 1 ---------------------------------------------
def test_fake_inputs_are_windows_of_the_frozen_level1(l1_checkpoint, set_iter,
                                                      monkeypatch):
    model, optim_wrapper = build_with_optim(l1_checkpoint)
    assert isinstance(model.lowres_source, FrozenLevels)
    assert not model.lowres_source.loaded, 'building reads no checkpoint'
    assert model.input_frames == IN_FRAMES
    spy = Spy(model, monkeypatch)
    assert len(model.lowres_source.levels) == 1
    batch = make_batch()
    real_highres = to_float(batch['inputs']['highres'])
    real_lowres = to_float(batch['inputs']['lowres'])

    set_iter(1)  # an iteration with a D and a G update
    log_vars = model.train_step(batch, optim_wrapper)
    assert {'loss_disc', 'loss_gen'} <= set(log_vars)

    # one level-1 draw and one generator pass per update (D, then G)
    assert len(spy.level1_calls) == 2 and len(spy.gen_lowres) == 2
    for call, lowres in zip(spy.level1_calls, spy.gen_lowres):
        level1_video = call['out']
        assert level1_video.shape == (BATCH_SIZE, 3, L1_FRAMES, IN_SIZE, IN_SIZE)
        # fakes follow the batch's classes: level 1 draws with the batch labels
        assert torch.equal(call['kwargs']['labels'], LABELS)
        assert lowres.shape == (BATCH_SIZE, 3, IN_FRAMES, IN_SIZE, IN_SIZE)
        starts = window_starts(lowres, level1_video)
        assert -1 not in starts, 'the fake lowres is a window of the level-1 video'
        assert not torch.allclose(lowres, real_lowres), 'not the real lowres'

    # the matching D sees (real video, real lowres), then (fake, its fake lowres)
    # in the D update, and (fake, its fake lowres) in the G update
    assert len(spy.matching) == 3
    (video, lowres) = spy.matching[0]
    assert torch.equal(video, real_highres) and torch.equal(lowres, real_lowres)
    for (video, lowres), fake, fake_lowres in zip(spy.matching[1:], spy.gen_out,
                                                  spy.gen_lowres):
        assert torch.equal(video, fake)
        assert torch.equal(lowres, fake_lowres)


def test_level1_is_frozen_and_outside_training(l1_checkpoint, set_iter):
    model, optim_wrapper = build_with_optim(l1_checkpoint)
    model.prepare_lowres_source()
    level1 = model.lowres_source.levels[0]
    before = state_of(level1)
    assert any('running_mean' in k for k in before), 'buffers are compared too'
    assert any(k.endswith('_u') for k in before), 'spectral-norm vectors too'

    # no gradients, in no optimizer
    assert all(not p.requires_grad for p in level1.parameters())
    optimized = {id(p) for name in ('generator', 'discriminator')
                 for group in optim_wrapper[name].optimizer.param_groups
                 for p in group['params']}
    assert optimized.isdisjoint(id(p) for p in level1.parameters())

    # eval mode, even after the runner's model.train()
    model.train()
    assert model.training and model.generator.training
    assert all(not m.training for m in level1.modules())

    g_before = state_of(model.generator)
    batch = make_batch()
    for i in range(4):
        set_iter(i)
        log_vars = model.train_step(batch, optim_wrapper)
        assert log_vars['nonfinite'].item() == 0
    assert_same_state(before, level1)
    assert all(not m.training for m in level1.modules())
    # ... while level 2 itself did train
    g_after = model.generator.state_dict()
    assert any(not torch.equal(g_after[k], v) for k, v in g_before.items())


def test_state_dict_leaves_out_the_frozen_levels(l1_checkpoint):
    model = build_level2(l1_checkpoint)
    other = build_level2(l1_checkpoint)  # another initialisation of level 2
    state = other.state_dict()
    assert state, 'the state dict holds level 2'
    assert not [k for k in state if k.startswith(('prev_levels.', 'lowres_source.'))]
    assert any(k.startswith('generator.') for k in state)
    assert any(k.startswith('discriminator.') for k in state)

    model.prepare_lowres_source()
    level1_before = state_of(model.lowres_source.levels[0])
    result = model.load_state_dict(state)  # strict: the frozen levels are no gap
    assert not result.missing_keys and not result.unexpected_keys
    assert_same_state(level1_before, model.lowres_source.levels[0])
    loaded = model.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in state.items())


def test_mmengine_checkpoint_loading_leaves_the_frozen_levels(l1_checkpoint):
    """The path of the Runner's ``load_from`` and ``resume``."""
    model = build_level2(l1_checkpoint)
    state = build_level2(l1_checkpoint).state_dict()
    model.prepare_lowres_source()
    level1_before = state_of(model.lowres_source.levels[0])
    mmengine_load_state_dict(model, state, strict=True)
    assert_same_state(level1_before, model.lowres_source.levels[0])
    loaded = model.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in state.items())


# --- lowres sources -------------------------------------------------------------------
def test_data_source_needs_no_checkpoint_and_uses_the_real_lowres(set_iter,
                                                                  monkeypatch):
    model, optim_wrapper = build_with_optim(None, **REAL_LOWRES)
    assert isinstance(model.lowres_source, RealLowres)
    spy = Spy(model, monkeypatch)
    batch = make_batch()
    real_lowres = to_float(batch['inputs']['lowres'])

    set_iter(1)
    model.train_step(batch, optim_wrapper)
    assert len(spy.gen_lowres) == 2
    for lowres in spy.gen_lowres:
        assert torch.equal(lowres, real_lowres)
    assert len(spy.matching) == 3
    for video, lowres in spy.matching:
        assert torch.equal(lowres, real_lowres)


def test_every_upsampling_config_builds_with_no_checkpoint_on_disk():
    for path in sorted(CONFIG_DIR.glob('l[23]_*.py')) + [L2_CONFIG]:
        cfg = Config.fromfile(str(path))
        # the widths do not change what building reads (paper widths take ~40 s)
        cfg.model.generator.base_channels = 2
        for disc in cfg.model.discriminator.values():
            if isinstance(disc, dict):  # spatial, temporal, matching (None: absent)
                disc.base_channels = 2
        model = MODELS.build(cfg.model)
        assert isinstance(model.lowres_source, FrozenLevels), path.name
        assert not model.lowres_source.loaded


def test_generated_source_with_a_missing_checkpoint_says_how_to_make_it(tmp_path):
    missing = tmp_path / 'no_such_level1.pth'
    model = build_level2(missing)  # building reads nothing
    for check in (model.prepare_lowres_source,
                  lambda: check_lowres_source(tiny_l2_config(missing).model)):
        with pytest.raises(FileNotFoundError) as error:
            check()
        message = str(error.value)
        assert str(missing) in message
        assert 'python tools/train.py' in message
        assert 'demo_l1_clips.py' in message


def test_generated_source_without_a_checkpoint_is_refused_when_it_is_needed():
    model = build_level2(None)  # the config's own default builds
    with pytest.raises(ValueError, match=r'no checkpoint.*demo_l1_clips\.py'):
        model.prepare_lowres_source()


def test_generated_source_without_previous_levels_is_refused():
    with pytest.raises(ValueError, match='levels'):
        build_level2(None, **{'model.lowres_source.levels': []})


def test_unknown_lowres_source_is_refused():
    with pytest.raises(ValueError, match=re.escape("'dreamed'")):
        build_level2(None, **{'model.lowres_source': 'dreamed'})


# --- partial views --------------------------------------------------------------------
def frame_coded_video(batch: int, frames: int) -> torch.Tensor:
    """(B, 2, T, 3, 3) whose frame t of sample b is all 100 * b + t."""
    codes = 100 * torch.arange(batch).view(-1, 1) + torch.arange(frames).view(1, -1)
    return codes.float().view(batch, 1, frames, 1, 1).expand(-1, 2, -1, 3, 3).clone()


def test_random_windows_are_consecutive_frames_of_each_sample():
    batch, frames, length = 64, 8, 4
    video = frame_coded_video(batch, frames)
    windows = random_windows(video, length, generator=torch.Generator().manual_seed(0))
    assert windows.shape == (batch, 2, length, 3, 3)
    starts = []
    for b, window in enumerate(windows):
        codes = window[0, :, 0, 0] - 100 * b  # which frames of sample b
        start = int(codes[0])
        assert codes.tolist() == list(range(start, start + length))
        assert torch.equal(window, video[b, :, start:start + length])
        starts.append(start)
    # every start is drawn, the last one included
    assert set(starts) == set(range(frames - length + 1))
    # the whole video is the only window of its own length
    assert torch.equal(random_windows(video, frames), video)
    # reproducible with a generator
    again = random_windows(video, length, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again, windows)


def test_random_windows_longer_than_the_video_are_refused():
    with pytest.raises(ValueError, match='9-frame window of a 8-frame video'):
        random_windows(frame_coded_video(2, 8), 9)


# --- sampling -------------------------------------------------------------------------
def test_preview_shows_the_level1_input_beside_the_output(l1_checkpoint, monkeypatch):
    model = build_level2(l1_checkpoint).eval()
    spy = Spy(model, monkeypatch)
    labels = torch.tensor([0, 1, 2])
    video = model.preview(3, labels=labels, seed=0)
    assert video.shape == (3, 3, OUT_FRAMES, OUT_SIZE, 2 * OUT_SIZE)
    assert video.abs().max() <= 1
    shown_input, output = video[..., :OUT_SIZE], video[..., OUT_SIZE:]

    # the left half is the input, nearest-upscaled: each frame twice, 2x2 pixels
    lowres = shown_input[:, :, ::2, ::2, ::2].contiguous()
    assert torch.equal(shown_input, lowres.repeat_interleave(2, dim=2)
                       .repeat_interleave(2, dim=3).repeat_interleave(2, dim=4))
    # ... a window of what level 1 drew for these labels ...
    assert len(spy.level1_calls) == 1
    assert torch.equal(spy.level1_calls[0]['kwargs']['labels'], labels)
    assert -1 not in window_starts(lowres, spy.level1_calls[0]['out'])
    # ... and the right half is level 2's sample of it, through the level chain
    chained, given = model.sample_with_inputs(3, labels=labels, seed=0)
    assert torch.equal(output, chained) and torch.equal(lowres, given)
    # fixed noise: the samples hook shows the same samples every time
    assert torch.equal(video, model.preview(3, labels=labels, seed=0))


def test_preview_of_a_data_level_shows_the_last_real_lowres(set_iter):
    model, optim_wrapper = build_with_optim(None, **REAL_LOWRES)
    with pytest.raises(RuntimeError, match='train a step first'):
        model.preview(2)
    batch = make_batch()
    set_iter(0)
    model.train_step(batch, optim_wrapper)
    model.eval()
    video = model.preview(2, labels=LABELS, seed=0)
    assert video.shape == (BATCH_SIZE, 3, OUT_FRAMES, OUT_SIZE, 2 * OUT_SIZE)
    shown = video[..., :OUT_SIZE][:, :, ::2, ::2, ::2]
    assert torch.equal(shown, to_float(batch['inputs']['lowres']))


def test_sample_is_deterministic_for_a_seed_in_eval_mode():
    model = build_level2(None, **REAL_LOWRES).eval()
    lowres = torch.rand(2, 3, IN_FRAMES, IN_SIZE, IN_SIZE) * 2 - 1
    rng_state = torch.get_rng_state()
    first = model.sample(lowres, labels=LABELS, seed=5)
    second = model.sample(lowres, labels=LABELS, seed=5)
    other = model.sample(lowres, labels=LABELS, seed=6)
    assert first.shape == (2, 3, OUT_FRAMES, OUT_SIZE, OUT_SIZE)
    assert torch.equal(first, second)
    assert not torch.equal(first, other)
    assert torch.equal(torch.get_rng_state(), rng_state), 'the global RNG is untouched'


# --- unrolling (appendix A) -----------------------------------------------------------
UNROLLED_FRAMES, NUM_PASSES, UNROLL_BATCH = 16, 3, 4


def test_length_statistics_recompute_per_frame_statistics():
    model = tiny_l2_config().model  # the generator alone, with the level's classes
    generator = MODELS.build(dict(model.generator, num_classes=model.num_classes))
    named = [(n, m) for n, m in generator.named_modules() if isinstance(m, FrameBatchNorm)]
    norms = [m for _, m in named]
    assert norms and all(n.num_frames == OUT_FRAMES for n in norms)
    momenta = [n.momentum for n in norms]
    state_before = {k: v.clone() for k, v in generator.state_dict().items()}
    assert any(k.endswith('_u') for k in state_before)
    assert any('.gain.' in k for k in state_before), 'conditional norms are covered'

    inputs_seen: Dict[int, List[torch.Tensor]] = {i: [] for i in range(len(norms))}
    for i, norm in enumerate(norms):
        norm.register_forward_pre_hook(
            lambda m, args, i=i: inputs_seen[i].append(args[0].detach().clone()))

    def make_inputs():
        lowres = torch.rand(UNROLL_BATCH, 3, UNROLLED_FRAMES // 2, IN_SIZE, IN_SIZE)
        return (torch.randn(UNROLL_BATCH, generator.noise_dim), lowres * 2 - 1,
                torch.randint(generator.num_classes, (UNROLL_BATCH, )))

    stats = LengthStatistics(generator)
    assert stats.prepare(UNROLLED_FRAMES, make_inputs, num_passes=NUM_PASSES)

    # the generator keeps its length, modes (training, as built) and momenta
    assert generator.num_frames == OUT_FRAMES
    assert generator.input_frames == OUT_FRAMES // 2
    assert all(m.training for m in generator.modules())
    assert [n.momentum for n in norms] == momenta
    # statistics: per frame, the plain average over the dummy passes
    for i, (name, norm) in enumerate(named):
        mean, var = stats[UNROLLED_FRAMES][name]
        assert mean.shape == var.shape == (UNROLLED_FRAMES, norm.num_features)
        passes = inputs_seen[i]
        assert len(passes) == NUM_PASSES
        assert all(x.shape[1] == UNROLLED_FRAMES for x in passes)
        means = torch.stack([x.mean(dim=(0, 3, 4)) for x in passes])
        variances = torch.stack([x.var(dim=(0, 3, 4), unbiased=True) for x in passes])
        torch.testing.assert_close(mean, means.mean(0), rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(var, variances.mean(0), rtol=1e-4, atol=1e-5)
    # weights (spectral-norm vectors included) and buffers are untouched
    after = generator.state_dict()
    changed = [k for k, v in state_before.items() if not torch.equal(after[k], v)]
    assert changed == [], f'the passes changed {len(changed)} tensors, e.g. {changed[:3]}'

    # with them, the generator upsamples 8 frames to 16, deterministically
    generator.eval()
    noise, lowres, labels = make_inputs()
    with stats.at_length(UNROLLED_FRAMES):
        video = generator(noise, lowres, labels)
        assert video.shape == (UNROLL_BATCH, 3, UNROLLED_FRAMES, OUT_SIZE, OUT_SIZE)
        assert torch.equal(video, generator(noise, lowres, labels))
        with pytest.raises(ValueError, match='lowres must be'):
            generator(noise, lowres[:, :, :IN_FRAMES], labels)
    # and without them, 4 frames to 8 as trained
    assert generator(noise, lowres[:, :, :IN_FRAMES], labels).shape[2] == OUT_FRAMES
    with pytest.raises(ValueError, match='lowres must be'):
        generator(noise, lowres, labels)


def test_trains_on_a_level1_trained_with_other_widths(tmp_path, set_iter):
    """A level 1 trained with ``--cfg-options model.generator.base_channels=4`` is
    rebuilt from the config its checkpoint stores, not from demo_l1_clips.py."""
    init_default_scope('hvg')
    cfg = Config.fromfile(str(L1_CONFIG))
    cfg.merge_from_dict({'model.generator.base_channels': 4})
    path = tmp_path / 'narrow_l1.pth'
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict(),
                'meta': {'cfg': cfg.pretty_text}}, path)
    model, optim_wrapper = build_with_optim(path)
    set_iter(1)
    log_vars = model.train_step(make_batch(), optim_wrapper)
    assert model.lowres_source.levels[0].generator.base_channels == 4
    assert log_vars['nonfinite'].item() == 0
