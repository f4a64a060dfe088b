"""The shared CLI helpers: argument types refuse bad values at parse time; a
repository tool loads as a module with its main()."""
import argparse
import os
from pathlib import Path

import pytest

from hvg.utils.cli import (DictAction, check_labels, load_tool, non_negative_float,
                           non_negative_int, positive_float, positive_int, writable_dir,
                           writable_file)


def test_positive_int():
    assert positive_int('3') == 3
    for bad in ('0', '-2'):
        with pytest.raises(argparse.ArgumentTypeError, match='must be >= 1'):
            positive_int(bad)
    parser = argparse.ArgumentParser()
    parser.add_argument('--n', type=positive_int)
    with pytest.raises(SystemExit):
        parser.parse_args(['--n', '0'])


def test_load_tool():
    tool = load_tool('test.py')
    assert callable(tool.main) and callable(tool.parse_args)
    with pytest.raises(FileNotFoundError, match='no_such_tool.py'):
        load_tool('no_such_tool.py')


@pytest.mark.parametrize('kind, good, bad', [
    (non_negative_int, [('0', 0), ('7', 7)], ['-1', '1.5', 'x']),
    (positive_float, [('0.5', 0.5), ('3', 3.0)], ['0', '-1', 'nan', 'inf', 'x']),
    (non_negative_float, [('0', 0.0), ('2.5', 2.5)], ['-0.1', 'nan']),
    (positive_int, [('1', 1)], ['x', '2.0']),
])
def test_number_types_refuse_out_of_range_values(kind, good, bad):
    for text, value in good:
        assert kind(text) == value
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError):
            kind(text)


def test_writable_paths_are_checked_and_folders_made(tmp_path):
    assert writable_file(str(tmp_path / 'new' / 'metrics.json')).endswith('metrics.json')
    assert (tmp_path / 'new').is_dir() and not (tmp_path / 'new' / 'metrics.json').exists()
    assert writable_dir(str(tmp_path / 'out' / 'samples'))
    assert (tmp_path / 'out' / 'samples').is_dir()
    blocker = tmp_path / 'a_file'
    blocker.write_text('')
    for check, path in ((writable_file, blocker / 'metrics.json'), (writable_dir, blocker),
                        (writable_dir, blocker / 'sub'), (writable_file, tmp_path)):
        with pytest.raises(argparse.ArgumentTypeError):
            check(str(path))


def test_a_read_only_folder_is_refused(tmp_path):
    """A folder without write permission; as root (who writes through
    permissions), a file system that takes no new files (/proc)."""
    if os.geteuid() == 0:
        with pytest.raises(argparse.ArgumentTypeError, match='cannot write'):
            writable_file('/proc/metrics.json')
        return
    folder = tmp_path / 'ro'
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(argparse.ArgumentTypeError, match='cannot write'):
            writable_file(str(folder / 'metrics.json'))
    finally:
        folder.chmod(0o700)


def test_dict_action_keeps_spaces_inside_values():
    """mmengine's DictAction turns data_root="/a path/x" into '/apath/x'."""
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    # what the shell passes for: data_root="/a path/with spaces" ...
    args = parser.parse_args([
        '--cfg-options', 'data_root=/a path/with spaces', 'quoted="/b c"',
        'n=3', 'f=0.5', 'flag=false', 'none=None', 'items=[1, 2, 3]', 'pair=(a b, c)',
        'nested=[(1, 2), [x, y z]]', 'csv=a, b'])
    assert args.cfg_options == {
        'data_root': '/a path/with spaces', 'quoted': '/b c', 'n': 3, 'f': 0.5,
        'flag': False, 'none': None, 'items': [1, 2, 3], 'pair': ('a b', 'c'),
        'nested': [(1, 2), ['x', 'y z']], 'csv': ['a', 'b']}
    for bad in ('no_equals_sign', 'x=[1, 2'):
        with pytest.raises(SystemExit):
            parser.parse_args(['--cfg-options', bad])


def test_every_tool_uses_the_dict_action_that_keeps_spaces():
    tools = Path(__file__).resolve().parents[2] / 'tools'
    for path in tools.rglob('*.py'):
        text = path.read_text()
        assert 'from mmengine.config import DictAction' not in text, path
        assert 'Config, DictAction' not in text, path
        if 'action=DictAction' in text:
            assert 'from hvg.utils.cli import' in text and 'DictAction' in text, path


def test_check_labels():
    check_labels([0, 2], 3)
    check_labels(None, 0)
    with pytest.raises(ValueError, match=r"7 not in the model's 3 classes"):
        check_labels([1, 7], 3)
    with pytest.raises(ValueError, match='unconditional'):
        check_labels([0], 0)
