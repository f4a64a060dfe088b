"""Shared by the model tests: one intra-op thread, a fixed seed, the iteration.

The models under test are tiny, so thread start-up and contention on a shared
machine cost far more than they save; one thread keeps the suite fast and its
timings steady. Both settings are restored after each test.
"""
import pytest
import torch


@pytest.fixture(autouse=True)
def single_thread_and_seed():
    num_threads = torch.get_num_threads()
    rng_state = torch.get_rng_state()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(num_threads)
    torch.set_rng_state(rng_state)


@pytest.fixture
def at_iteration():
    """Set the Runner's iteration (which update a train step makes); restored after."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_current_instance()
    saved = hub.runtime_info.get('iter')
    yield lambda iteration: hub.update_info('iter', iteration)
    if saved is None:
        hub.runtime_info.pop('iter', None)
    else:
        hub.update_info('iter', saved)
