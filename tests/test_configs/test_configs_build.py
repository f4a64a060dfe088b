"""Every shipped config loads, builds at tiny width, and says what the paper says.

The real configs are used as they are, with only the overrides a user would
pass as ``--cfg-options`` (``Config.merge_from_dict``) to make them small.
"""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from video_fixtures import decode_frame_indices, write_synthetic_video

import hvg.datasets  # noqa: F401  (registers)
import hvg.engine  # noqa: F401
import hvg.models  # noqa: F401
from hvg.registry import DATASETS, MODELS

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'configs' / 'hvg'
# level configs; hvg*.py are hierarchy configs (tests/test_apis/test_hierarchy.py)
CONFIGS = sorted(p for p in [*CONFIG_DIR.glob('*.py'), *CONFIG_DIR.glob('repro/*.py')]
                 if not p.name.startswith('hvg'))
KINETICS = CONFIG_DIR / 'l1_kinetics_24f_32.py'
BDD = CONFIG_DIR / 'l1_bdd_12f_64.py'

TINY = {
    'model.generator.base_channels': 2,
    'model.discriminator.spatial.base_channels': 2,
    'model.discriminator.temporal.base_channels': 2,
}
LONG_VIDEO_FRAMES = 200  # > 24 frames x stride 8 (span 185)


@pytest.fixture(autouse=True)
def single_thread():
    num_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(num_threads)


@pytest.fixture(scope='module')
def long_video_root(tmp_path_factory) -> Path:
    """200-frame synthetic videos (frame i encodes i) and their annotation lists:
    25 fps for Kinetics, 30 fps for BDD100K, the frame rates their configs'
    temporal subsampling counts in (SampleFrames base_fps)."""
    root = tmp_path_factory.mktemp('long_video')
    write_synthetic_video(root / 'long.mp4', LONG_VIDEO_FRAMES, 48, 64, fps=25)
    write_synthetic_video(root / 'long30.mp4', LONG_VIDEO_FRAMES, 48, 64, fps=30)
    (root / 'labelled.txt').write_text('long.mp4 599\n')
    (root / 'unlabelled.txt').write_text('long30.mp4\n')
    return root


def tiny_config(path: Path, **overrides) -> Config:
    cfg = Config.fromfile(str(path))
    cfg.merge_from_dict({**TINY, **overrides})
    return cfg


def pipeline_step(cfg: Config, type_name: str) -> dict:
    steps = [t for t in cfg.train_dataloader.dataset.pipeline if t.type == type_name]
    assert len(steps) == 1, f'expected one {type_name} in the pipeline'
    return steps[0]


def test_config_dir_is_not_empty():
    names = {path.name for path in CONFIGS}
    assert {KINETICS.name, BDD.name, 'demo_l1_clips.py'} <= names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_config_loads_and_its_model_builds(path):
    cfg = Config.fromfile(str(path))
    upsampling = cfg.model.type == 'UpsamplingLevelGAN'
    extra = {}
    if upsampling:
        if cfg.model.discriminator.get('matching') is not None:
            extra['model.discriminator.matching.base_channels'] = 2
    cfg = tiny_config(path, **extra)
    assert cfg.default_scope == 'hvg'
    model = MODELS.build(cfg.model)
    generator = model.generator
    assert generator.num_frames == cfg.model.generator.num_frames
    # the widths were overridden, the rest of the config kept
    assert sum(p.numel() for p in model.parameters()) < 1_000_000
    # one sample from the built model has the config's shape
    model.eval()
    if upsampling:
        gen = cfg.model.generator
        lowres = torch.zeros(1, 3, gen.num_frames // gen.temporal_factor, gen.in_size,
                             gen.in_size)
        video = model.sample(lowres, seed=0)
    else:
        video = model.sample(1, seed=0)
    size = cfg.model.generator.out_size
    assert video.shape == (1, 3, cfg.model.generator.num_frames, size, size)
    assert video.abs().max() <= 1


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_config_passes_the_train_tools_checks(path):
    """Every shipped config's hooks, loops and schedule pass ``tools/train.py``'s checks."""
    from hvg.utils.config_checks import check_clip_shape, check_train_config
    cfg = Config.fromfile(str(path))
    check_train_config(cfg, path.name)
    check_clip_shape(cfg, path.name)


def test_kinetics_config_is_class_conditional_24_frames_32px_stride_8():
    cfg = tiny_config(KINETICS)
    assert cfg.model.num_classes == 600  # said once, at the level
    assert cfg.model.generator.num_frames == 24
    assert cfg.model.generator.out_size == 32
    sample_frames = pipeline_step(cfg, 'SampleFrames')
    assert (sample_frames.clip_len, sample_frames.frame_interval) == (24, 8)
    assert pipeline_step(cfg, 'RandomCrop').size == 32

    model = MODELS.build(cfg.model)
    assert model.conditional
    assert model.generator.num_classes == 600
    assert model.discriminator.spatial.head.embed.num_embeddings == 600
    assert model.discriminator.temporal.head.embed.num_embeddings == 600


def test_bdd_config_is_unconditional_12_frames_64px():
    cfg = tiny_config(BDD)
    assert cfg.model.num_classes == 0
    assert cfg.model.generator.num_frames == 12
    assert cfg.model.generator.out_size == 64
    sample_frames = pipeline_step(cfg, 'SampleFrames')
    assert (sample_frames.clip_len, sample_frames.frame_interval) == (12, 8)
    assert pipeline_step(cfg, 'RandomCrop').size == 64

    model = MODELS.build(cfg.model)
    assert not model.conditional


@pytest.mark.parametrize('path', [KINETICS, BDD], ids=lambda p: p.stem)
def test_dataset_without_data_root_fails_clearly(path):
    cfg = Config.fromfile(str(path))
    assert cfg.train_dataloader.dataset.data_root is None
    with pytest.raises(ValueError, match=r'train_dataloader\.dataset\.data_root'):
        DATASETS.build(cfg.train_dataloader.dataset)


@pytest.mark.parametrize('path, ann_file, label, clip_len, size', [
    (KINETICS, 'labelled.txt', 599, 24, 32),
    (BDD, 'unlabelled.txt', -1, 12, 64),
], ids=['kinetics', 'bdd'])
def test_dataset_pipeline_yields_strided_clips(long_video_root, path, ann_file, label,
                                              clip_len, size):
    cfg = Config.fromfile(str(path))
    cfg.merge_from_dict({
        'train_dataloader.dataset.data_root': str(long_video_root),
        'train_dataloader.dataset.ann_file': ann_file,
    })
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    item = dataset[0]
    assert item['inputs'].shape == (3, clip_len, size, size)
    assert item['inputs'].dtype == torch.uint8
    assert int(item['data_samples']['label']) == label
    frames = item['inputs'].permute(1, 2, 3, 0).numpy()
    indices = decode_frame_indices(frames)
    # temporal subsampling 8: consecutive clip frames are 8 video frames apart
    assert indices == list(range(indices[0], indices[0] + 8 * clip_len, 8))
    assert indices == item['data_samples']['frame_inds'].tolist()


def test_wrong_config_key_fails_at_build_naming_the_key():
    cfg = tiny_config(KINETICS, **{'model.generator.not_a_key': 1})
    with pytest.raises(TypeError, match='not_a_key'):
        MODELS.build(cfg.model)


def test_wrong_dataset_key_fails_at_build_naming_the_key(long_video_root):
    cfg = Config.fromfile(str(BDD))
    cfg.merge_from_dict({
        'train_dataloader.dataset.data_root': str(long_video_root),
        'train_dataloader.dataset.ann_file': 'unlabelled.txt',
        'train_dataloader.dataset.not_a_dataset_key': 1,
    })
    with pytest.raises(TypeError, match='not_a_dataset_key'):
        DATASETS.build(cfg.train_dataloader.dataset)
