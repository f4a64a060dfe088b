"""Global-synchronous per-frame BatchNorm and rank-split randomness, on 2 gloo ranks.

Section 5.1 trains with "global-synchronous batch norm": W ranks of b samples
must normalise like one process with the W * b samples. Two CPU processes
(gloo) each take part of a batch; their outputs, input gradients and running
statistics must equal a single process's on the whole batch. The per-sample
random draws (``hvg.models.batch_random``) of the two ranks, interleaved, must be
what one process draws for the whole batch.
"""
import os
import tempfile
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from subprocess_utils import free_port

from hvg.models.batch_random import batch_rand, batch_randint, batch_randn
from hvg.models.layers import FrameBatchNorm, convert_sync_frame_bn

T, C, H, W = 3, 4, 5, 5
SPLITS = {2: [(0, 3), (3, 4)]}  # unequal local batches: rank 0 has 3 samples, rank 1 one
TOL = dict(rtol=1e-5, atol=1e-5)


def inputs(seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(4, T, C, H, W, generator=gen) * 3 + 1
    cond = torch.randn(4, 6, generator=gen)
    weight = torch.randn(4, T, C, H, W, generator=gen)  # loss = sum(weight * y)
    return x, cond, weight


def make_bn() -> FrameBatchNorm:
    torch.manual_seed(0)
    bn = FrameBatchNorm(C, T, cond_dim=6)
    bn.running_mean.normal_()
    return bn.train()


def single_process_reference():
    x, cond, weight = inputs()
    x.requires_grad_(True)
    bn = make_bn()
    y = bn(x, cond)
    (weight * y).sum().backward()
    return y.detach(), x.grad, bn.running_mean, bn.running_var


def worker(rank: int, world: int, port: int, out_dir: str) -> None:
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                            rank=rank, world_size=world)
    try:
        x, cond, weight = inputs()
        lo, hi = SPLITS[world][rank]
        x = x[lo:hi].clone().requires_grad_(True)
        bn = convert_sync_frame_bn(make_bn())
        y = bn(x, cond[lo:hi])
        (weight[lo:hi] * y).sum().backward()
        # a plain (unsynchronised) norm on the same part, to show sync matters
        local = make_bn()(x.detach(), cond[lo:hi])
        torch.manual_seed(123)  # the same seed on every rank (diff_rank_seed=False)
        draws = dict(randn=batch_randn(2, 3), rand=batch_rand(2, 5),
                     randint=batch_randint(7, 2, 4))
        torch.save(dict(y=y.detach(), grad=x.grad, mean=bn.running_mean,
                        var=bn.running_var, local=local, draws=draws),
                   os.path.join(out_dir, f'rank{rank}.pt'))
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope='module')
def two_ranks():
    with tempfile.TemporaryDirectory() as out_dir:
        mp.spawn(worker, args=(2, free_port(), out_dir), nprocs=2, join=True)
        yield [torch.load(Path(out_dir) / f'rank{r}.pt', weights_only=True)
               for r in range(2)]


def test_synced_statistics_equal_the_combined_batch(two_ranks):
    y, grad, mean, var = single_process_reference()
    for rank, (lo, hi) in enumerate(SPLITS[2]):
        got = two_ranks[rank]
        torch.testing.assert_close(got['y'], y[lo:hi], **TOL)
        # gradients flow through the other rank's statistics too
        torch.testing.assert_close(got['grad'], grad[lo:hi], **TOL)
        torch.testing.assert_close(got['mean'], mean, **TOL)
        torch.testing.assert_close(got['var'], var, **TOL)
        # without sync each rank would normalise with its own statistics
        assert (got['local'] - y[lo:hi]).abs().max() > 1e-2


def test_single_process_sync_is_the_plain_path():
    x, cond, _ = inputs()
    plain, synced = make_bn(), convert_sync_frame_bn(make_bn())
    assert synced.sync and 'sync=True' in repr(synced)
    torch.testing.assert_close(synced(x, cond), plain(x, cond), rtol=0, atol=0)
    assert not convert_sync_frame_bn(synced, False).sync


def test_rank_draws_interleave_to_the_single_process_draw(two_ranks):
    torch.manual_seed(123)
    expected = dict(randn=torch.randn(4, 3), rand=torch.rand(4, 5),
                    randint=torch.randint(7, (4, 4)))
    for name, whole in expected.items():
        rank0, rank1 = (two_ranks[r]['draws'][name] for r in range(2))
        assert rank0.shape == rank1.shape == (2, *whole.shape[1:])
        # rank r holds samples r, r + 2, ... as mmengine's samplers hand them out
        assert torch.equal(rank0, whole[0::2]) and torch.equal(rank1, whole[1::2])
        assert not torch.equal(rank0, rank1)


def test_seeded_draws_are_not_split():
    gen = torch.Generator().manual_seed(5)
    expected = torch.randn(3, 2, generator=torch.Generator().manual_seed(5))
    assert torch.equal(batch_randn(3, 2, generator=gen), expected)
