"""Settings shared by the model tests: one intra-op thread, a fixed seed.

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
