"""Bad arguments are refused before any work, in the user's terms: argparse
errors (exit code 2, the flag named) or one ``error:`` line, never a traceback
from deep inside torch after minutes of sampling or training."""
from pathlib import Path

import pytest

from hvg.utils.cli import load_tool

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / 'configs' / 'hvg' / 'hvg2_demo_clips.py'
DEMO_L1 = REPO / 'configs' / 'hvg' / 'demo_l1_clips.py'


def refused(tool, argv, capsys) -> str:
    """Run ``tool.main(argv)`` expecting a refusal; return what the user sees."""
    with pytest.raises(SystemExit) as exit_info:
        tool.main([str(a) for a in argv])
    code = exit_info.value.code
    shown = capsys.readouterr().err + ('' if isinstance(code, int) else str(code))
    assert code == 2 or str(code).startswith('error:'), shown
    assert 'Traceback' not in shown
    return shown


@pytest.mark.parametrize('bad', [
    ['--num-samples', '0'], ['--num-samples', '-3'], ['--batch-size', '0'],
    ['--num-frames', '0'], ['--num-frames', '-4'], ['--labels', '-1'],
    ['--noise-std', '-1'], ['--chunk-frames', '0'], ['--bn-passes', '0'], ['--seed', '-1']])
def test_sample_tool_refuses_bad_numbers_at_parse_time(bad, tmp_path, capsys):
    shown = refused(load_tool('sample.py'),
                    ['--checkpoints', 'never_loaded.pth', '--out', tmp_path / 's', *bad],
                    capsys)
    assert bad[0] in shown and 'must be >=' in shown


def test_sample_tool_refuses_labels_the_model_does_not_have(tmp_path, capsys,
                                                            demo_checkpoints):
    out = tmp_path / 'samples'
    shown = refused(load_tool('sample.py'),
                    [DEMO, '--checkpoints', *demo_checkpoints, '--labels', 0, 7,
                     '--num-samples', 2, '--bn-passes', 1, '--out', out], capsys)
    assert "--labels: 7 not in the model's 3 classes" in shown
    assert not list(out.iterdir())  # nothing sampled


def test_sample_tool_refuses_an_unwritable_out(tmp_path, capsys):
    blocker = tmp_path / 'a_file'
    blocker.write_text('')
    shown = refused(load_tool('sample.py'),
                    ['--checkpoints', 'never_loaded.pth', '--out', blocker], capsys)
    assert '--out' in shown and 'not a folder' in shown


@pytest.mark.parametrize('bad, says', [
    (['--num-samples', '0'], 'must be >= 1'), (['--batch-size', '-1'], 'must be >= 1'),
    (['--is-splits', '0'], 'must be >= 1'), (['--workers', '-1'], 'must be >= 0'),
    (['--num-real', '0'], 'must be >= 1'), (['--classes', '-2'], 'must be >= 0'),
    (['--metrics', 'is', '--num-samples', '4', '--is-splits', '10'],
     'Inception Score needs --num-samples >= --is-splits'),
    (['--metrics', 'nope'], "unknown metric 'nope'"),
])
def test_test_tool_refuses_bad_numbers_first(bad, says, tmp_path, capsys):
    shown = refused(load_tool('test.py'),
                    ['--checkpoints', 'never_loaded.pth', '--i3d', 'never_loaded.pth',
                     '--out', tmp_path / 'm.json', *bad], capsys)
    assert says in shown


def test_test_tool_refuses_an_unwritable_out_before_sampling(tmp_path, capsys):
    blocker = tmp_path / 'a_file'
    blocker.write_text('')
    for out in (blocker / 'metrics.json', tmp_path):
        shown = refused(load_tool('test.py'),
                        ['--checkpoints', 'never_loaded.pth', '--metrics', 'psd',
                         '--out', out], capsys)
        assert '--out' in shown


@pytest.mark.parametrize('option, says', [
    ('default_hooks.checkpoint.intreval=1',
     "default_hooks.checkpoint.intreval: SafeCheckpointHook has no argument 'intreval' "
     "(did you mean 'interval'?)"),
    ('default_hooks.nonfinite_guard.acton=skip', "NonFiniteGuardHook has no argument 'acton'"),
    ('train_cfg.max_iters=-5', 'train_cfg.max_iters must be an integer >= 1, got -5'),
    ('train_cfg.max_iters=0', 'train_cfg.max_iters must be an integer >= 1, got 0'),
    ('train_cfg.val_interval=0', 'train_cfg.val_interval must be an integer >= 1'),
    ('default_hooks.logger.type=NoSuchHook', "no hook type 'NoSuchHook' is registered"),
    ('train_cfg.max_iter=5', "train_cfg.max_iter: IterBasedTrainLoop has no argument "
     "'max_iter' (did you mean 'max_iters'?)"),
    ('train_cfg.type=NoSuchLoop', "train_cfg: no loop type 'NoSuchLoop' is registered"),
])
def test_train_tool_refuses_unknown_hook_and_loop_arguments_and_empty_schedules(
        option, says, tmp_path, capsys):
    work_dir = tmp_path / 'work'
    shown = refused(load_tool('train.py'),
                    [DEMO_L1, '--work-dir', work_dir, '--cfg-options', option], capsys)
    assert says in shown
    assert not work_dir.exists()  # refused before the Runner was built


def test_train_tool_keeps_spaces_in_cfg_options_paths(tmp_path):
    train = load_tool('train.py')
    args = train.parse_args([str(DEMO_L1), '--cfg-options',
                             'train_dataloader.dataset.data_root=/a path/with spaces',
                             'default_hooks.checkpoint.interval=3'])
    cfg = train.build_config(args)
    assert cfg.train_dataloader.dataset.data_root == '/a path/with spaces'
    from hvg.utils.config_checks import check_train_config
    check_train_config(cfg)  # the demo config with a valid override passes


@pytest.mark.parametrize('tool, argv', [
    ('analysis/benchmark_loader.py', ['CONFIG', '--batches', '0']),
    ('analysis/benchmark_loader.py', ['CONFIG', '--workers', '0', '-1']),
    ('analysis/benchmark_loader.py', ['CONFIG', '--synthetic-fps', '0']),
    ('analysis/benchmark_metrics.py', ['--repeats', '0']),
    ('analysis/benchmark_train.py', ['CONFIG', '--iters', '-1']),
    ('analysis/benchmark_unroll.py', ['CONFIG', '--frames', '48', '0']),
    ('analysis/memory_scaling.py', ['--width', '0']),
    ('analysis/memory_scaling.py', ['--frames', '-12']),
    ('analysis/level_checkpoints.py', ['WORK_DIR', '--seed', '-1']),
    ('analysis/learning_curves.py', ['CONFIG', '--level-dirs', 'a', 'b', '--i3d', 'x',
                                     '--out', 'p', '--num-samples', '0']),
    ('analysis/blur_over_time.py', ['CONFIG', '--num-samples', '0']),
    ('analysis/blur_over_time.py', ['CONFIG', '--bn-passes', '-1']),
    ('analysis/blur_over_time.py', ['CONFIG', '--num-frames', '0']),
])
def test_analysis_tools_refuse_bad_numbers_at_parse_time(tool, argv, capsys):
    refused(load_tool(tool), argv, capsys)


def test_train_tool_amp_picks_bf16_mixed_precision_on_the_cpu():
    """--amp no longer needs CUDA: bf16 autocast on the CPU, fp16 where no bf16."""
    train = load_tool('train.py')
    cfg = train.build_config(train.parse_args([str(DEMO_L1), '--amp']))
    for name in ('generator', 'discriminator'):
        assert cfg.optim_wrapper[name]['type'] == 'MixedPrecisionOptimWrapper'
        assert cfg.optim_wrapper[name]['dtype'] == 'auto'
    from hvg.engine.optimizers import amp_dtype
    import torch
    assert amp_dtype('auto', 'cpu') == torch.bfloat16
