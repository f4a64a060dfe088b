"""check_resume: the resuming config against the one its checkpoint stores."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

import hvg.models  # noqa: F401  (registers)
from hvg.engine.resume_check import (ResumeConfigError, check_resume,
                                     config_differences, flatten, resume_checkpoint)
from hvg.registry import MODELS

DEMO_CONFIG = Path(__file__).resolve().parents[2] / 'configs' / 'hvg' / 'demo_l1_clips.py'
TINY = {'model.generator.base_channels': 2,
        'model.discriminator.spatial.base_channels': 2,
        'model.discriminator.temporal.base_channels': 2}


def config(work_dir: Path, **options) -> Config:
    cfg = Config.fromfile(str(DEMO_CONFIG))
    cfg.merge_from_dict({**TINY, 'work_dir': str(work_dir), **options})
    return cfg


def checkpointed(work_dir: Path, seed=0, **options) -> Path:
    """A work dir with a checkpoint as the Runner writes it (config, seed, weights)."""
    cfg = config(work_dir, **options)
    work_dir.mkdir(parents=True, exist_ok=True)
    path = work_dir / 'iter_2.pth'
    torch.save({'meta': {'cfg': cfg.pretty_text, 'seed': seed, 'iter': 2},
                'state_dict': MODELS.build(cfg.model).state_dict()}, path)
    (work_dir / 'last_checkpoint').write_text(str(path))
    return path


def test_flatten_names_every_leaf():
    assert flatten({'a': {'b': [1, (2, 3)]}, 'c': {}}) == {
        'a.b.0': 1, 'a.b.1.0': 2, 'a.b.1.1': 3, 'c': {}}


def test_the_same_config_resumes_silently(tmp_path):
    path = checkpointed(tmp_path)
    assert resume_checkpoint(str(tmp_path)) == str(path)
    report = check_resume(config(tmp_path))
    assert report.message() == ''


def test_schedule_length_hooks_and_work_dir_may_change(tmp_path):
    checkpointed(tmp_path)
    report = check_resume(config(tmp_path, **{
        'train_cfg.max_iters': 10, 'default_hooks.logger.interval': 3,
        'log_processor.window_size': 5, 'launcher': 'pytorch'}))
    assert report.message() == ''
    old, new = config(tmp_path), config(tmp_path / 'elsewhere')
    assert config_differences(old, new) == []


def test_a_wider_model_is_refused_naming_keys_and_shapes(tmp_path):
    checkpointed(tmp_path)
    with pytest.raises(ResumeConfigError) as error:
        check_resume(config(tmp_path, **{'model.generator.base_channels': 4,
                                         'model.generator.num_frames': 8}))
    message = str(error.value)
    assert 'model.generator.base_channels: 2 in the checkpoint, 4 now' in message
    assert 'model.generator.num_frames: 12 in the checkpoint, 8 now' in message
    assert 'in the checkpoint,' in message and str(tmp_path / 'iter_2.pth') in message


def test_more_classes_are_refused(tmp_path):
    checkpointed(tmp_path)
    with pytest.raises(ResumeConfigError, match='model.num_classes: 3 in the checkpoint'):
        check_resume(config(tmp_path, **{'model.num_classes': 5}))


def test_learning_rates_and_other_changes_are_reported_apart(tmp_path):
    checkpointed(tmp_path)
    report = check_resume(config(tmp_path, **{
        'optim_wrapper.discriminator.optimizer.lr': 2e-4,
        'model.discriminator_steps': 1, 'train_dataloader.batch_size': 16}))
    assert report.learning_rates == [
        ('optim_wrapper.discriminator.optimizer.lr', 1e-3, 2e-4)]
    assert report.differences == [('model.discriminator_steps', 2, 1),
                                  ('train_dataloader.batch_size', 8, 16)]
    message = report.message()
    assert 'optim_wrapper.discriminator.optimizer.lr: 0.001 -> 0.0002' in message
    assert 'train_dataloader.batch_size: 8 -> 16' in message


def test_an_unset_seed_takes_the_checkpoints(tmp_path):
    checkpointed(tmp_path, seed=1234, **{'randomness.seed': None})
    cfg = config(tmp_path, **{'randomness.seed': None})
    report = check_resume(cfg)
    assert cfg.randomness.seed == 1234 and report.seed == 1234
    assert report.differences == []  # the stored None is the same seed


def test_nothing_to_check_without_a_checkpoint(tmp_path):
    assert resume_checkpoint(str(tmp_path)) is None
    assert check_resume(config(tmp_path)) is None
