"""Weights-only loading everywhere (mmengine's loaders included) and atomic writes."""
import errno
from pathlib import Path

import pytest
import torch
from mmengine.runner.checkpoint import CheckpointLoader

import hvg  # noqa: F401  (replaces mmengine's loaders)
from hvg.utils import atomic_files
from hvg.utils.safe_checkpoint import UnsafeCheckpointError, load_checkpoint_file


class Payload:
    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, 'w')


def test_mmengine_loader_refuses_pickled_code_despite_the_environment(tmp_path,
                                                                     monkeypatch):
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    marker = tmp_path / 'payload_ran'
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'x': Payload(marker)}, evil)
    for load in (lambda: CheckpointLoader.load_checkpoint(str(evil), 'cpu'),
                 lambda: load_checkpoint_file(str(evil))):
        with pytest.raises(UnsafeCheckpointError, match=str(evil)):
            load()
    assert not marker.exists()
    # plain tensors still load
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.ones(2)}}, good)
    assert CheckpointLoader.load_checkpoint(str(good), 'cpu')['state_dict']['w'].sum() == 2


@pytest.mark.parametrize('url', ['open-mmlab://resnet50', 'torchvision://resnet18',
                                 'pavi://x/y.pth', 'mmcls://x'])
def test_schemes_hvg_does_not_load_safely_are_refused(url):
    with pytest.raises(ValueError, match='weights-only'):
        CheckpointLoader.load_checkpoint(url, 'cpu')


def test_atomic_write_keeps_the_old_file_when_the_write_fails(tmp_path, monkeypatch):
    path = tmp_path / 'last_checkpoint'
    atomic_files.atomic_write_text(str(path), 'old')

    def full(fd):
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(atomic_files.os, 'fsync', full)
    with pytest.raises(OSError):
        atomic_files.atomic_write_text(str(path), 'new')
    assert path.read_text() == 'old'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['last_checkpoint']
