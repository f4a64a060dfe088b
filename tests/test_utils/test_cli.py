"""The shared CLI helpers: argument types refuse bad values at parse time; a
repository tool loads as a module with its main()."""
import argparse

import pytest

from hvg.utils.cli import load_tool, positive_int


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
