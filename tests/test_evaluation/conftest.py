"""Fixtures of the evaluation tests: a random-weight I3D file, one thread."""
import pytest
import torch

from hvg.evaluation import random_i3d


@pytest.fixture(scope='module')
def i3d_file(tmp_path_factory):
    """A random-weight Kinetics-400 I3D in the prepared file format (seeded)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('i3d') / 'i3d_random.pth'
    torch.save(dict(state_dict=random_i3d(400).state_dict(), meta={}), path)
    return str(path)


@pytest.fixture(autouse=True)
def one_thread():
    """I3D on tiny clips: one thread is faster than two fighting over two cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
