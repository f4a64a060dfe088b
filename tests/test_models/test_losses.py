"""GeometricHingeLoss against values worked out by hand."""
import pytest
import torch

from hvg.models import GeometricHingeLoss
from hvg.registry import MODELS

# (B=2 samples, N=2 output locations)
REAL = [[2.0, 0.5], [-1.0, 1.0]]  # hinge 1 - D: [[0 (beyond), 0.5], [2, 0 (at margin)]]
FAKE = [[-3.0, 0.0], [0.5, -1.0]]  # hinge 1 + D: [[0 (beyond), 1], [1.5, 0 (at margin)]]


@pytest.fixture
def loss() -> GeometricHingeLoss:
    return MODELS.build(dict(type='GeometricHingeLoss'))


def test_disc_loss_by_hand(loss):
    real, fake = torch.tensor(REAL), torch.tensor(FAKE)
    # mean over all 4 (sample, location) pairs: 2.5 / 4 + 2.5 / 4
    assert loss.disc_loss(real, fake).item() == pytest.approx(1.25)
    # not a sum over locations (2.5) nor over samples
    assert loss.disc_loss(real[:, :1], fake[:, :1]).item() == pytest.approx(
        (0 + 2) / 2 + (0 + 1.5) / 2)


def test_gen_loss_by_hand(loss):
    # -(-3 + 0 + 0.5 - 1) / 4
    assert loss.gen_loss(torch.tensor(FAKE)).item() == pytest.approx(0.875)
    assert loss.gen_loss(torch.tensor([[4.0, -2.0, 1.0]])).item() == pytest.approx(-1.0)


def test_scores_beyond_the_margin_cost_nothing(loss):
    real = torch.tensor([[1.0, 3.0, 10.0]])
    fake = torch.tensor([[-1.0, -2.5, -7.0]])
    assert loss.disc_loss(real, fake).item() == 0.0


def test_disc_loss_gradient_counts_every_location(loss):
    real = torch.tensor(REAL, requires_grad=True)
    fake = torch.tensor(FAKE, requires_grad=True)
    loss.disc_loss(real, fake).backward()
    # inside the margin each score pulls with 1 / (B * N); beyond it, not at all
    torch.testing.assert_close(real.grad, torch.tensor([[0.0, -0.25], [-0.25, 0.0]]))
    torch.testing.assert_close(fake.grad, torch.tensor([[0.0, 0.25], [0.25, 0.0]]))


def test_loss_averages_over_samples_and_locations(loss):
    """Different N, same per-location hinge: the loss does not grow with N."""
    real_small = torch.full((2, 3), 0.2)
    real_large = torch.full((2, 11), 0.2)
    fake_small = torch.full((2, 3), -0.4)
    fake_large = torch.full((2, 11), -0.4)
    small = loss.disc_loss(real_small, fake_small).item()
    large = loss.disc_loss(real_large, fake_large).item()
    assert small == pytest.approx(0.8 + 0.6)
    assert large == pytest.approx(small)
    assert loss.gen_loss(fake_large).item() == pytest.approx(0.4)
