"""The OpenMMLab-style analysis tools, each on a tiny config, writing what it says:
print_config, get_flops, browse_dataset, analyze_logs and tools/slurm_test.sh."""
import json
import sys
from pathlib import Path

import decord
import pytest
import torch
from PIL import Image
from subprocess_utils import fake_srun_bin, free_port, run_tool, tool_env

from hvg.utils.cli import load_tool

REPO = Path(__file__).resolve().parents[2]
CONFIGS = REPO / 'configs' / 'hvg'
TINY_L2 = ['model.generator.base_channels=2', 'model.discriminator.spatial.base_channels=2',
           'model.discriminator.temporal.base_channels=2',
           'model.discriminator.matching.base_channels=2']
TINY_L1 = TINY_L2[:3]


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_print_config_merges_overrides_and_runs_the_train_checks(capsys):
    tool = load_tool('analysis/print_config.py')
    tool.main([str(CONFIGS / 'l2_kinetics_6f.py'), '--cfg-options',
               'model.generator.base_channels=24'])
    out = capsys.readouterr().out
    assert 'base_channels=24' in out and "type='FrozenLevels'" in out
    with pytest.raises(SystemExit, match='clip_len=12.*num_frames=7'):
        tool.main([str(CONFIGS / 'demo_l1_clips.py'), '--check', '--cfg-options',
                   'model.generator.num_frames=7'])
    with pytest.raises(SystemExit, match='no checkpoint is set for previous level 1'):
        tool.main([str(CONFIGS / 'demo_l2_clips.py'), '--check'])


def test_get_flops_counts_parameters_and_step_flops_from_a_config(tmp_path, one_thread):
    from hvg.registry import MODELS
    tool = load_tool('analysis/get_flops.py')
    out = tmp_path / 'flops.json'
    tool.main([str(CONFIGS / 'demo_l2_clips.py'), '--cfg-options', *TINY_L2,
               '--out', str(out)])
    costs = json.loads(out.read_text())
    assert set(costs['parameters']) == {'generator', 'discriminator.spatial',
                                        'discriminator.temporal', 'discriminator.matching'}
    # the counts are the built level's (no checkpoint needed to build it)
    from mmengine.config import Config
    cfg = Config.fromfile(str(CONFIGS / 'demo_l2_clips.py'))
    cfg.merge_from_dict({k: int(v) for k, v in (o.split('=') for o in TINY_L2)})
    model = MODELS.build(cfg.model)
    assert costs['parameters']['generator'] == sum(
        p.numel() for p in model.generator.parameters())
    flops = costs['gflops']
    # a G step runs the generator forward and backward: more than one forward
    assert 0 < flops['generator_forward'] < flops['generator_step']
    assert flops['cycle'] == pytest.approx(
        2 * flops['discriminator_step'] + flops['generator_step'], abs=2e-3)


def test_get_flops_counts_a_level_1_config(tmp_path, one_thread):
    # level 1's batches carry one tensor, not {'highres', 'lowres'}
    tool = load_tool('analysis/get_flops.py')
    out = tmp_path / 'flops.json'
    tool.main([str(CONFIGS / 'demo_l1_clips.py'), '--cfg-options', *TINY_L1,
               '--out', str(out)])
    costs = json.loads(out.read_text())
    assert set(costs['parameters']) == {'generator', 'discriminator.spatial',
                                        'discriminator.temporal'}
    assert 0 < costs['gflops']['generator_forward'] < costs['gflops']['generator_step']


def test_browse_dataset_writes_the_training_pairs(tmp_path, one_thread):
    tool = load_tool('analysis/browse_dataset.py')
    tool.main([str(CONFIGS / 'demo_l2_clips.py'), '--num-clips', '3', '--out',
               str(tmp_path)])
    video = decord.VideoReader(str(tmp_path / 'clips.mp4'))
    assert len(video) == 8  # the level's 8-frame training window
    assert Image.open(tmp_path / 'clips.png').size[0] > 2 * 128  # x_{l-1} beside x_l
    assert Image.open(tmp_path / 'clips.gif').n_frames >= 2


def test_blur_over_time_follows_every_frame_of_every_level(tmp_path, demo_checkpoints,
                                                         one_thread, capsys):
    import csv
    tool = load_tool('analysis/blur_over_time.py')
    out = tmp_path / 'blur' / 'demo.csv'
    tool.main([str(CONFIGS / 'hvg2_demo_clips.py'), '--checkpoints', *demo_checkpoints,
               '--num-samples', '3', '--batch-size', '2', '--bn-passes', '1',
               '--out', str(out), '--cfg-options', 'hierarchy.bn_batch_size=2'])
    with open(out) as f:
        rows = list(csv.DictReader(f))
    frames = {}
    for row in rows:
        frames.setdefault((row['level'], row['series']), []).append(row)
    # level 1's 12 frames; level 2 unrolled over them (24), real and on real input
    assert {k: len(v) for k, v in frames.items()} == {
        ('1', 'generated'): 12, ('1', 'real'): 12, ('2', 'generated'): 24,
        ('2', 'on_real_input'): 24, ('2', 'real'): 24}
    for series in frames.values():
        assert [int(r['frame']) for r in series] == list(range(1, len(series) + 1))
        assert all(float(r['hf_power']) > 0 for r in series)
        relative = [float(r['relative']) for r in series]
        assert sum(relative) / len(relative) == pytest.approx(1, abs=1e-3)
    assert Image.open(out.with_suffix('.png')).size[0] > 600  # one panel per level
    printed = capsys.readouterr().out
    assert 'on_real_input' in printed and f'wrote {out}' in printed


def test_analyze_logs_plots_curves_and_names_missing_keys(tmp_path, capsys):
    log = tmp_path / 'run' / '20260101_000000' / 'vis_data' / 'scalars.json'
    log.parent.mkdir(parents=True)
    log.write_text(''.join(json.dumps(dict(iter=i, loss_disc=2.0 - i / 10, time=0.5)) + '\n'
                           for i in range(1, 6)))
    tool = load_tool('analysis/analyze_logs.py')
    out = tmp_path / 'curves.png'
    tool.main(['plot_curve', str(log), '--keys', 'loss_disc', '--out', str(out)])
    assert Image.open(out).size[0] > 100
    with pytest.raises(SystemExit, match="no log has 'loss_gen'; logged keys: .*loss_disc"):
        tool.main(['plot_curve', str(log), '--keys', 'loss_gen', '--out', str(out)])
    tool.main(['cal_train_time', str(log)])
    assert '0.500 s/iter over 5' in capsys.readouterr().out
    assert tool.curve(tool.read_scalars(str(log)), 'loss_disc')[:, 0].tolist() == [
        1, 2, 3, 4, 5]


def test_slurm_test_runs_two_tasks_with_the_numbers_of_one(tmp_path, demo_checkpoints):
    env = dict(tool_env(tmp_path / 'cache'), MASTER_ADDR='127.0.0.1',
               MASTER_PORT=str(free_port()), PYTHONPATH=str(REPO))
    env['PATH'] = f'{fake_srun_bin(tmp_path)}:{env["PATH"]}'
    common = ['--checkpoints', *demo_checkpoints, '--metrics', 'grounding',
              '--num-samples', '4', '--num-real', '4', '--batch-size', '2',
              '--bn-passes', '1', '--workers', '0']
    one = run_tool([sys.executable, 'tools/test.py', *common, '--out',
                    str(tmp_path / 'one.json')], env, timeout=600)
    assert one.returncode == 0, one.stdout[-4000:]
    two = run_tool(['bash', 'tools/slurm_test.sh', 'cpu', 'hvg_eval', '', '2', *common,
                    '--out', str(tmp_path / 'two.json')], env, timeout=600)
    assert two.returncode == 0, two.stdout[-4000:]
    one, two = (json.loads((tmp_path / f'{n}.json').read_text()) for n in ('one', 'two'))
    assert two['world_size'] == 2
    # mismatched pairs (the floor) form within a rank; everything else is equal
    compared = [k for k in one['metrics'] if 'mismatched' not in k]
    assert 'level2/grounding_corr_mean' in compared
    for key in compared:
        assert two['metrics'][key] == pytest.approx(one['metrics'][key], rel=1e-5,
                                                    abs=1e-6), key


def test_train_logs_scalars_and_sample_grids_to_tensorboard(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    work_dir = tmp_path / 'work'
    env = tool_env(tmp_path / 'cache')
    result = run_tool([sys.executable, 'tools/train.py', str(CONFIGS / 'demo_l1_clips.py'),
                       '--work-dir', str(work_dir), '--vis-backends', 'tensorboard',
                       '--cfg-options', 'model.generator.base_channels=2',
                       'model.discriminator.spatial.base_channels=2',
                       'model.discriminator.temporal.base_channels=2',
                       'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
                       'train_dataloader.persistent_workers=False', 'train_cfg.max_iters=2',
                       'default_hooks.logger.interval=1', 'default_hooks.samples.interval=0',
                       'default_hooks.samples.num_samples=3'], env, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:]
    events = list(work_dir.glob('*/vis_data/events.out.tfevents.*'))
    assert events, 'no TensorBoard event file'
    accumulator = EventAccumulator(str(events[0].parent)).Reload()
    assert 'loss_disc' in accumulator.Tags()['scalars']
    assert 'samples' in accumulator.Tags()['images']
    # and the local backend keeps writing the scalars analyze_logs.py reads
    assert list(work_dir.glob('*/vis_data/scalars.json'))
