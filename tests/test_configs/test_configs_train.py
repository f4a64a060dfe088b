"""Every shipped config trains: two iterations with mmengine's real Runner.

The configs are used as they are, with only the overrides a user would pass as
``--cfg-options``: every ``base_channels`` of the model set to 2, a batch of one,
two iterations. The demo configs train on the bundled sample clips; the Kinetics
and BDD100K configs on a synthetic video written here. Upsampling levels of the
paper train on real low-res inputs (``lowres_source.type=RealLowres``: their
previous levels are full-size models without checkpoints); the demo level 2 trains as in
the paper's eq. 3, on fakes of a frozen demo level 1.
"""
import uuid
from pathlib import Path
from typing import Iterator, List

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from video_fixtures import write_synthetic_video

import hvg.datasets  # noqa: F401  (registers)
import hvg.engine  # noqa: F401
import hvg.models  # noqa: F401
from hvg.models.gans import unwrap
from hvg.registry import MODELS
from hvg.utils.config_checks import clip_shape_mismatches

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'configs' / 'hvg'
# level configs; hvg*.py are hierarchy configs (tests/test_apis/test_hierarchy.py);
# repro/: the small-setting ablations of tools/analysis/reproduce_ablations.py
CONFIGS = sorted(p for p in [*CONFIG_DIR.glob('*.py'), *CONFIG_DIR.glob('repro/*.py')]
                 if not p.name.startswith('hvg'))
REPRO = ['l2_clips_3f', 'l2_clips_3f_nomd', 'l2_clips_6f', 'l2_clips_6f_nomd']
# Upsampling configs trained on fakes of their frozen previous levels: those whose
# previous levels are small enough to build here (a checkpoint is made for them).
GENERATED = {'demo_l2_clips': ['demo_l1_clips'],
             **{name: ['demo_l1_clips'] for name in REPRO}}
# 200 frames: more than l1_kinetics_24f_32's span of 24 frames at interval 8 (185).
# 64x80: decord decodes it (it cannot decode some widths, e.g. 16, 24, 48, 72).
VIDEO_FRAMES, VIDEO_HEIGHT, VIDEO_WIDTH = 200, 64, 80
MAX_ITERS = 2


def load(path: Path) -> Config:
    return Config.fromfile(str(path))


def is_upsampling(cfg: Config) -> bool:
    return cfg.model.type == 'UpsamplingLevelGAN'


def pipeline_step(cfg: Config, type_name: str) -> dict:
    steps = [t for t in cfg.train_dataloader.dataset.pipeline if t.type == type_name]
    assert len(steps) == 1, f'expected one {type_name} in the pipeline'
    return steps[0]


def base_channel_keys(node, prefix: str) -> Iterator[str]:
    """Dotted keys of every ``base_channels`` under ``node`` (a config dict)."""
    if isinstance(node, dict):
        for key, value in node.items():
            path = f'{prefix}.{key}'
            if key == 'base_channels':
                yield path
            else:
                yield from base_channel_keys(value, path)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from base_channel_keys(value, f'{prefix}.{i}')


def tensors_in(obj) -> List[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in tensors_in(v)]
    if isinstance(obj, (list, tuple)):
        return [t for v in obj for t in tensors_in(v)]
    return []


@pytest.fixture(autouse=True)
def small_and_isolated(tmp_path_factory, monkeypatch):
    """One intra-op thread (tiny models on a shared machine) and a per-session
    cache for the downscaled sample clips."""
    monkeypatch.setenv('HVG_CACHE_DIR', str(tmp_path_factory.getbasetemp() / 'hvg_cache'))
    num_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(num_threads)


@pytest.fixture(scope='module')
def video_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('config_train_videos')
    write_synthetic_video(root / 'long.mp4', VIDEO_FRAMES, VIDEO_HEIGHT, VIDEO_WIDTH)
    return root


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory) -> dict:
    """Checkpoints of the previous levels in ``GENERATED``, built from their own
    configs (as the upsampling level will build them)."""
    init_default_scope('hvg')
    root = tmp_path_factory.mktemp('prev_level_checkpoints')
    paths = {}
    for name in {n for names in GENERATED.values() for n in names}:
        model = MODELS.build(load(CONFIG_DIR / f'{name}.py').model)
        paths[name] = root / f'{name}.pth'
        torch.save({'state_dict': model.state_dict()}, paths[name])
    return paths


def test_configs_are_found():
    names = {path.stem for path in CONFIGS}
    assert {'demo_l1_clips', 'demo_l2_clips', 'l1_kinetics_24f_32', 'l3_bdd_256'} <= names
    assert set(GENERATED) <= names


# --- two iterations of every config ---------------------------------------------------
def train_config(path: Path, work_dir: Path, video_root: Path,
                 checkpoints: dict) -> Config:
    cfg = load(path)
    widths = list(base_channel_keys(cfg.model, 'model'))
    assert len(widths) >= 3, 'a generator and at least two discriminators'
    overrides = {key: 2 for key in widths}
    overrides.update({
        'train_dataloader.batch_size': 1,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_cfg.max_iters': MAX_ITERS,
        'default_hooks.checkpoint.interval': MAX_ITERS,
        'default_hooks.samples.interval': 0,  # only the final grid
        'default_hooks.samples.num_samples': 2,
        'default_hooks.logger.interval': 1,
        'work_dir': str(work_dir),
        # Runner-global instances (logger, visualizer) are keyed by this name
        'experiment_name': f'{path.stem}_{uuid.uuid4().hex[:8]}',
    })
    if cfg.train_dataloader.dataset.type != 'SampleClipsDataset':
        num_classes = cfg.model.num_classes
        line = 'long.mp4' + (f' {num_classes - 1}' if num_classes else '')
        ann_file = work_dir.parent / 'ann.txt'
        ann_file.write_text(line + '\n')
        overrides['train_dataloader.dataset.data_root'] = str(video_root)
        overrides['train_dataloader.dataset.ann_file'] = str(ann_file)
    if is_upsampling(cfg):
        if path.stem in GENERATED:
            for i, name in enumerate(GENERATED[path.stem]):
                overrides[f'model.lowres_source.levels.{i}.checkpoint'] = str(
                    checkpoints[name])
        else:
            overrides['model.lowres_source.type'] = 'RealLowres'
    cfg.merge_from_dict(overrides)
    return cfg


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_config_trains_two_iterations(path, tmp_path, video_root, checkpoints):
    work_dir = tmp_path / 'work'
    cfg = train_config(path, work_dir, video_root, checkpoints)
    runner = Runner.from_cfg(cfg)
    generator = unwrap(runner.model).generator
    shapes = []  # (lowres shape or None, output shape) of every generator pass
    generator.register_forward_hook(lambda m, args, out: shapes.append(
        (tuple(args[1].shape) if len(args) > 2 else None, tuple(out.shape))))
    runner.train()
    assert runner.iter == MAX_ITERS

    # it trained at the config's sizes: T_in/in_size -> num_frames/out_size
    gen_cfg = cfg.model.generator
    out_shape = (1, 3, gen_cfg.num_frames, gen_cfg.out_size, gen_cfg.out_size)
    lowres_shape = None
    if is_upsampling(cfg):
        lowres_shape = (1, 3, gen_cfg.num_frames // gen_cfg.temporal_factor,
                        gen_cfg.in_size, gen_cfg.in_size)
    # a D update per iteration, one G update, then the final samples grid
    assert len(shapes) >= MAX_ITERS + 1
    assert set(shapes[:MAX_ITERS + 1]) == {(lowres_shape, out_shape)}

    ckpt = torch.load(work_dir / f'iter_{MAX_ITERS}.pth', map_location='cpu',
                      weights_only=True)
    assert ckpt['meta']['iter'] == MAX_ITERS
    state = ckpt['state_dict']
    assert any(k.startswith('generator.') for k in state)
    assert any(k.startswith('discriminator.') for k in state)
    assert not any(k.startswith(('prev_levels.', 'lowres_source.')) for k in state)
    # the checkpoint describes its run: the resolved config, overrides included
    stored = Config.fromstring(ckpt['meta']['cfg'], file_format='.py')
    assert stored.model.generator == cfg.model.generator
    tensors = tensors_in(state)
    assert tensors and all(torch.isfinite(t).all() for t in tensors)

    # D every iteration, G every discriminator_steps=2 iterations
    hub = runner.message_hub
    assert len(hub.get_scalar('train/loss_disc').data[0]) == MAX_ITERS
    assert len(hub.get_scalar('train/loss_gen').data[0]) == 1
    log_text = Path(runner.log_dir, f'{runner.timestamp}.log').read_text()
    assert 'loss_disc' in log_text and 'loss_gen' in log_text
    assert (work_dir / 'samples' / f'iter_{MAX_ITERS:06d}.mp4').is_file()

    model = unwrap(runner.model)
    if is_upsampling(cfg):
        assert (model.discriminator.matching is None) == path.stem.endswith('_nomd')
        if path.stem in GENERATED:
            assert type(model.lowres_source).__name__ == 'FrozenLevels'
            assert len(model.lowres_source.levels) == len(GENERATED[path.stem])
        else:
            assert type(model.lowres_source).__name__ == 'RealLowres'
    else:
        assert model.discriminator.matching is None


# --- what the configs say -------------------------------------------------------------
UPSAMPLING = [p for p in CONFIGS if is_upsampling(load(p))]


def test_nomd_ablations_drop_only_the_matching_discriminator():
    nomd = [p for p in UPSAMPLING if p.stem.endswith('_nomd')]
    assert {p.stem for p in nomd} >= {'l2_kinetics_3f_nomd', 'l2_kinetics_6f_nomd',
                                      'l2_clips_3f_nomd', 'l2_clips_6f_nomd'}
    for path in nomd:
        cfg, full = load(path), load(path.with_name(f'{path.stem[:-len("_nomd")]}.py'))
        assert cfg.model.discriminator.matching is None
        assert full.model.discriminator.matching is not None
        # otherwise the paper's own setting, unchanged
        assert cfg.model.generator == full.model.generator
        assert cfg.model.discriminator.spatial == full.model.discriminator.spatial
        assert cfg.model.discriminator.temporal == full.model.discriminator.temporal
        assert cfg.train_dataloader == full.train_dataloader
    for path in UPSAMPLING:
        if not path.stem.endswith('_nomd'):
            assert load(path).model.discriminator.matching is not None, path.stem


@pytest.mark.parametrize('name, in_frames, out_frames', [
    ('l2_kinetics_3f', 3, 6),
    ('l2_kinetics_6f', 6, 12),
])
def test_temporal_window_ablation(name, in_frames, out_frames):
    cfg = load(CONFIG_DIR / f'{name}.py')
    generator = cfg.model.generator
    assert generator.num_frames == out_frames
    assert generator.num_frames // generator.temporal_factor == in_frames
    assert (generator.in_size, generator.out_size) == (32, 128)
    assert pipeline_step(cfg, 'SampleFrames').clip_len == out_frames
    low_res_view = pipeline_step(cfg, 'LowResView')
    assert out_frames // low_res_view.temporal_stride == in_frames
    assert low_res_view.size == 32


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_pipeline_agrees_with_the_generator(path):
    cfg = load(path)
    assert clip_shape_mismatches(cfg) == []
    generator = cfg.model.generator
    assert pipeline_step(cfg, 'SampleFrames').clip_len == generator.num_frames
    assert pipeline_step(cfg, 'RandomCrop').size == generator.out_size
    if is_upsampling(cfg):
        low_res_view = pipeline_step(cfg, 'LowResView')
        assert low_res_view.temporal_stride == generator.temporal_factor
        assert low_res_view.size == generator.in_size


def test_bdd_hierarchy_names_its_previous_levels():
    def names(stem):
        prev_levels = load(CONFIG_DIR / f'{stem}.py').model.lowres_source.levels
        return [Path(p.config).stem for p in prev_levels]

    assert names('l2_bdd_128') == ['l1_bdd_12f_64']
    assert names('l3_bdd_256') == ['l1_bdd_12f_64', 'l2_bdd_128']


@pytest.mark.parametrize('path', UPSAMPLING, ids=lambda p: p.stem)
def test_previous_levels_feed_this_level(path):
    """The last previous level makes what this level takes: its size, enough
    frames for a window, the same classes, at the low-res view's frame rate."""
    cfg = load(path)
    source = cfg.model.lowres_source
    assert source.type == 'FrozenLevels' and source.levels, \
        'an upsampling level of the paper trains on its previous levels (eq. 3)'
    for prev in source.levels:
        assert Path(prev.config).is_file(), prev.config
    prev = load(source.levels[-1].config)
    generator, prev_generator = cfg.model.generator, prev.model.generator
    assert prev_generator.out_size == generator.in_size
    assert prev_generator.num_frames >= generator.num_frames // generator.temporal_factor
    assert prev.model.num_classes == cfg.model.num_classes
    lowres_interval = (pipeline_step(cfg, 'SampleFrames').frame_interval *
                       pipeline_step(cfg, 'LowResView').temporal_stride)
    assert lowres_interval == pipeline_step(prev, 'SampleFrames').frame_interval


def test_clip_shape_mismatches_are_named():
    cfg = load(CONFIG_DIR / 'demo_l2_clips.py')
    cfg.merge_from_dict({'model.generator.in_size': 16, 'model.generator.out_size': 32})
    problems = ' '.join(clip_shape_mismatches(cfg))
    assert 'RandomCrop.size=64' in problems and 'out_size=32' in problems
    assert 'LowResView.size=32' in problems and 'in_size=16' in problems


@pytest.mark.parametrize('name, in_frames, out_frames', [
    ('l2_clips_3f', 3, 6),
    ('l2_clips_6f', 6, 12),
])
def test_small_window_ablation_changes_only_the_window(name, in_frames, out_frames):
    """The small setting's variants differ from the demo level 2 in the window alone,
    so the study compares what the paper ablates and nothing else."""
    cfg, demo = load(CONFIG_DIR / 'repro' / f'{name}.py'), load(CONFIG_DIR / 'demo_l2_clips.py')
    generator = cfg.model.generator
    assert generator.num_frames == out_frames
    assert generator.num_frames // generator.temporal_factor == in_frames
    assert pipeline_step(cfg, 'SampleFrames').clip_len == out_frames
    assert out_frames // pipeline_step(cfg, 'LowResView').temporal_stride == in_frames
    assert dict(generator, num_frames=8) == demo.model.generator
    assert cfg.model.discriminator == demo.model.discriminator
    assert cfg.model.lowres_source == demo.model.lowres_source
    for key in ('optim_wrapper', 'train_cfg', 'randomness'):
        assert cfg[key] == demo[key], key
    ours, theirs = cfg.train_dataloader.dataset.pipeline, demo.train_dataloader.dataset.pipeline
    assert [dict(t, clip_len=0) if t.type == 'SampleFrames' else t for t in ours] == \
        [dict(t, clip_len=0) if t.type == 'SampleFrames' else t for t in theirs]
