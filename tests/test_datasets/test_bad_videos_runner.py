"""Training over a Kinetics folder where 20% of the files are bad.

The real level-1 Kinetics config (``l1_kinetics_24f_32``) at tiny width, run
by mmengine's Runner over a Kinetics-shaped folder (``dataset_fixtures``):
10 clips on disk, one corrupt and one truncated, plus one listed clip that
was never downloaded. The run completes, logs each bad file once and lists
them in ``work_dir/bad_videos.txt``, with 0 and with 2 DataLoader workers;
over the failure limit it stops with a clear error.
"""
import gc
import uuid
from pathlib import Path

import pytest
import torch
from dataset_fixtures import make_kinetics_tree
from mmengine.config import Config
from mmengine.runner import Runner

import hvg.datasets  # noqa: F401  (registers)
import hvg.engine  # noqa: F401
import hvg.models  # noqa: F401
from hvg.engine import VideoReadFailureError, VideoReadFailureHook

CONFIG = (Path(__file__).resolve().parents[2] / 'configs' / 'hvg' /
          'l1_kinetics_24f_32.py')
MAX_ITERS = 5
BATCH = 2  # 5 x 2 draws: the shuffled sampler visits all 10 files once


@pytest.fixture(scope='module')
def kinetics(tmp_path_factory):
    return make_kinetics_tree(tmp_path_factory.mktemp('kinetics_runner'))


@pytest.fixture(autouse=True)
def one_thread():
    num_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(num_threads)


def kinetics_config(root: Path, work_dir: Path, num_workers: int,
                    max_fail_fraction: float) -> Config:
    cfg = Config.fromfile(str(CONFIG))
    cfg.merge_from_dict({
        'model.generator.base_channels': 2,
        'model.discriminator.spatial.base_channels': 2,
        'model.discriminator.temporal.base_channels': 2,
        'train_dataloader.batch_size': BATCH,
        'train_dataloader.num_workers': num_workers,
        # The report travels with each batch, so persistence does not matter
        # to it; without it the workers stop promptly at the end (below).
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.data_root': str(root),
        # 3 classes in the test CSV; the model keeps its 600 embeddings
        'train_dataloader.dataset.num_classes': None,
        # the test videos are 1.4 s long: 24 frames at base 25 fps, interval 1
        'train_dataloader.dataset.min_duration': 0,
        'train_dataloader.dataset.pipeline.1.frame_interval': 1,
        'train_cfg.max_iters': MAX_ITERS,
        'default_hooks.checkpoint.interval': 1000,
        'default_hooks.samples.interval': 0,
        'default_hooks.samples.num_samples': 2,
        'default_hooks.logger.interval': 1,
        'default_hooks.read_failures.max_fail_fraction': max_fail_fraction,
        'default_hooks.read_failures.min_reads': 1,
        'randomness.seed': 0,
        'work_dir': str(work_dir),
        'experiment_name': f'{work_dir.name}_{uuid.uuid4().hex[:8]}',
    })
    return cfg


def read_failure_hook(runner) -> VideoReadFailureHook:
    hooks = [h for h in runner.hooks if isinstance(h, VideoReadFailureHook)]
    assert len(hooks) == 1
    return hooks[0]


@pytest.mark.parametrize('num_workers', [0, 2])
def test_run_with_20_percent_bad_files_completes_and_reports_them(
        kinetics, tmp_path, num_workers):
    work_dir = tmp_path / f'work{num_workers}'
    runner = Runner.from_cfg(
        kinetics_config(kinetics.root, work_dir, num_workers,
                        max_fail_fraction=0.5))
    runner.train()
    assert runner.iter == MAX_ITERS

    bad = sorted(str(p) for p in kinetics.bad)
    listed = (work_dir / 'bad_videos.txt').read_text().splitlines()
    assert sorted(line.split('\t')[0] for line in listed) == bad
    assert all(line.split('\t')[1] == 'failed' for line in listed)

    hook = read_failure_hook(runner)
    assert hook.num_failed >= len(bad)
    # every served clip is one good read; prefetching workers read ahead
    assert hook.num_reads - hook.num_failed >= MAX_ITERS * BATCH

    log = Path(runner.log_dir, f'{runner.timestamp}.log').read_text()
    for path in bad:  # one warning per bad file, however often it was drawn
        assert log.count(f'Skipping video {path}') == 1
    # the never-downloaded clip: one start-up warning, not a failed read
    assert log.count('1 of 11 listed videos are missing') == 1
    assert 'Video reads:' in log and 'distinct bad files' in log
    # Stop the workers now: shut down from a later garbage collection, they
    # time out (5 s each) and stall the next test.
    runner.train_loop.dataloader_iterator = None
    del runner, hook
    gc.collect()


def test_run_over_the_failure_limit_stops_with_a_clear_error(
        kinetics, tmp_path):
    work_dir = tmp_path / 'work_limit'
    runner = Runner.from_cfg(
        kinetics_config(kinetics.root, work_dir, 0, max_fail_fraction=0.05))
    with pytest.raises(VideoReadFailureError) as error:
        runner.train()
    message = str(error.value)
    assert 'video reads failed' in message
    assert 'max_fail_fraction=5.0%' in message
    assert str(work_dir / 'bad_videos.txt') in message
    assert 'verify_videos.py' in message
    assert runner.iter < MAX_ITERS
    assert (work_dir / 'bad_videos.txt').read_text().strip()
