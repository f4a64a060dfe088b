"""DiffAugment: one transformation per video, the same for both members of a pair,
differentiable, and wired into what every discriminator of a level sees."""
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope

from hvg.evaluation.grounding import grounding_scores
from hvg.models.augment import DiffAugment
from hvg.models.gans import LevelBatch, Sample
from hvg.registry import MODELS

CONFIGS = Path(__file__).parents[2] / 'configs' / 'hvg'


def smooth_pair(batch=4, frames=4, size=16, factor=2):
    torch.manual_seed(0)
    low = torch.rand(batch, 3, frames, 4, 4) * 2 - 1
    low = F.interpolate(low, size=(frames, size, size), mode='trilinear')
    high = F.interpolate(low.repeat_interleave(factor, 2),
                         size=(frames * factor, size * 2, size * 2), mode='trilinear')
    return low, high


@pytest.mark.parametrize('policy', [('color', ), ('translation', ), ('cutout', ),
                                    ('color', 'translation', 'cutout')])
def test_pair_stays_consistent(policy):
    low, high = smooth_pair()
    before = grounding_scores(low, high, 2)[0]
    high_aug, low_aug = DiffAugment(policy=policy)(high, low)
    assert high_aug.shape == high.shape and low_aug.shape == low.shape
    assert not torch.equal(high_aug, high)
    after = grounding_scores(low_aug, high_aug, 2)[0]
    assert after.min() > 0.9 and after.mean() > 0.95 and before.min() > 0.99
    # the same transformation on a pair whose members were augmented apart
    # would break it: independent draws score far lower
    torch.manual_seed(1)
    apart, _ = DiffAugment(policy=policy)(high)
    torch.manual_seed(2)
    _, low_apart = DiffAugment(policy=policy)(high, low)
    if policy != ('color', ):  # colour alone keeps the correlation (affine)
        assert grounding_scores(low_apart, apart, 2)[0].mean() < after.mean() - 0.05


def test_same_transformation_for_every_frame():
    video = torch.zeros(2, 3, 6, 16, 16)
    video[..., 4:12, 4:12] = 1.0
    out, _ = DiffAugment()(video)
    for t in range(1, 6):
        assert torch.equal(out[:, :, t], out[:, :, 0])


def test_prob_zero_is_identity_and_gradients_flow():
    low, high = smooth_pair()
    high.requires_grad_(True)
    same, same_low = DiffAugment(prob=0.0)(high, low)
    assert torch.allclose(same, high) and torch.allclose(same_low, low)
    out, _ = DiffAugment()(high, low)
    out.sum().backward()
    assert high.grad is not None and high.grad.abs().sum() > 0


def test_bad_arguments():
    with pytest.raises(ValueError, match='policy'):
        DiffAugment(policy=('colour', ))
    with pytest.raises(ValueError, match='prob'):
        DiffAugment(prob=1.5)


@pytest.mark.parametrize('name', ['demo_l1_clips', 'demo_l2_clips'])
def test_level_discriminators_see_augmented_inputs(name):
    """With ``model.augment`` the discriminator scores change; without, they don't."""
    init_default_scope('hvg')
    cfg = Config.fromfile(str(CONFIGS / f'{name}.py'))
    tiny = {'model.generator.base_channels': 2,
            **{f'model.discriminator.{d}.base_channels': 2
               for d in ('spatial', 'temporal', 'matching')
               if d in cfg.model.discriminator}}
    cfg.merge_from_dict(tiny)
    plain_cfg = cfg.model.copy()
    plain_cfg['augment'] = None
    plain = MODELS.build(plain_cfg).eval()  # eval: no spectral-norm power step
    torch.manual_seed(0)
    video = torch.rand(2, 3, cfg.model.generator.num_frames, cfg.model.generator.out_size,
                       cfg.model.generator.out_size) * 2 - 1
    lowres = video[:, :, ::2, ::2, ::2] if name == 'demo_l2_clips' else None
    sample = Sample(video=video, lowres=lowres)
    batch = LevelBatch(real=video, labels=torch.tensor([0, 1]), lowres=lowres)
    torch.manual_seed(5)
    first = plain.discriminate(sample, batch)
    torch.manual_seed(5)
    assert torch.equal(plain.discriminate(sample, batch), first)
    augmented_cfg = dict(plain_cfg, augment=dict(type='DiffAugment'))
    augmented = MODELS.build(augmented_cfg).eval()
    augmented.load_state_dict(plain.state_dict())
    torch.manual_seed(5)
    assert not torch.allclose(augmented.discriminate(sample, batch), first)
