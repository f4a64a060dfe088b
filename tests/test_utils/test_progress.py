"""The shared progress bar: tqdm on a terminal, two plain lines elsewhere."""
import io

from hvg.utils.progress import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_not_a_terminal_prints_a_start_and_an_end_line():
    out = io.StringIO()
    with progress(total=3, desc='scoring', unit='video', file=out) as bar:
        assert out.getvalue() == 'scoring (3 video) ...\n'  # before any work finishes
        for _ in range(3):
            bar.update(1)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith('scoring: 3 video in ')
    assert '\r' not in out.getvalue()


def test_iterating_yields_every_item_and_counts_them():
    out = io.StringIO()
    assert list(progress(iter(range(4)), total=4, desc='files', file=out)) == [0, 1, 2, 3]
    assert 'files: 4 it in' in out.getvalue()


def test_a_terminal_gets_tqdm_and_disable_prints_nothing():
    term = Terminal()
    with progress(total=2, desc='passes', unit='pass', file=term) as bar:
        bar.update(2)
    assert 'passes' in term.getvalue() and '2/2' in term.getvalue()
    quiet = io.StringIO()
    with progress(total=2, desc='passes', file=quiet, disable=True) as bar:
        bar.update(2)
    assert list(progress([1, 2], desc='x', file=quiet, disable=True)) == [1, 2]
    assert quiet.getvalue() == ''
