"""Data parallelism done right: 2 ranks of b clips train like 1 process of 2b clips.

``tools/dist_train.sh CONFIG 2`` (torchrun, 2 gloo processes on the CPU) runs
two iterations of a level (D, D and one G update) with batch 2 per rank; and
``tools/train.py`` runs the same config in one process with batch 4. The final
parameters and per-frame BatchNorm statistics must agree to 1e-5, for level 1
and for level 2. That holds only if gradients of every trained network are
averaged on every D and G step, the generator's per-frame BatchNorm is
synchronised across ranks (``sync_bn``), the sampler hands the ranks the
combined batch's clips, and per-sample noise / frame choices are split by rank
(``hvg.models.batch_random``). The data pipeline is made deterministic (centre
clips and crops) so that both runs read the same pixels.

The optimiser is plain SGD: it turns equal gradients into equal parameters.
Adam would not show it: the generator's convolution biases feed BatchNorms
that cancel them, so their true gradient is 0 and what reaches them is float
rounding, which Adam's normalisation (g / (|g| + eps)) blows up to +-lr
differently in any two runs, distributed or not.
"""
import sys
import textwrap
from pathlib import Path
from typing import Dict, List

import pytest
import torch
from subprocess_utils import REPO, free_port, run_tool, tool_env

CONFIGS = REPO / 'configs' / 'hvg'
TOL = 1e-5

TINY = [
    'model.generator.base_channels=2',
    'model.discriminator.spatial.base_channels=2',
    'model.discriminator.temporal.base_channels=2',
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'train_cfg.max_iters=2',
    'default_hooks.checkpoint.interval=1',
    'default_hooks.checkpoint.max_keep_ckpts=2',
    'default_hooks.samples.interval=0',
    'default_hooks.samples.num_samples=2',
    'default_hooks.logger.interval=1',
    'randomness.seed=3',
]

# The demo pipelines without their random choices (offset, crop, flip), and SGD.
SGD = '''
optim_wrapper = dict(
    generator=dict(optimizer=dict(_delete_=True, type='SGD', lr=0.005)),
    discriminator=dict(optimizer=dict(_delete_=True, type='SGD', lr=0.005)))
'''
LEVEL1_LEAF = '''
_base_ = [{base!r}]
''' + SGD + '''
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=12, frame_interval=4, random_offset=False),
    dict(type='DecordDecode'),
    dict(type='Resize', short_side=32),
    dict(type='CenterCrop', size=32),
    dict(type='PackVideoInputs'),
]))
'''
LEVEL2_LEAF = '''
_base_ = [{base!r}]
''' + SGD + '''
model = dict(lowres_source=dict(_delete_=True, type='RealLowres'))
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=2, random_offset=False),
    dict(type='DecordDecode'),
    dict(type='Resize', short_side=64),
    dict(type='CenterCrop', size=64),
    dict(type='LowResView', temporal_stride=2, size=32),
    dict(type='PackVideoInputs', input_keys=dict(highres='imgs', lowres='lowres_imgs')),
]))
'''
LEVELS = {
    'level1': (LEVEL1_LEAF, 'demo_l1_clips.py', []),
    'level2': (LEVEL2_LEAF, 'demo_l2_clips.py',
               ['model.discriminator.matching.base_channels=2']),
}


def final_state(work_dir: Path, it: int = 2) -> Dict[str, torch.Tensor]:
    ckpt = torch.load(work_dir / f'iter_{it}.pth', map_location='cpu', weights_only=True)
    assert ckpt['meta']['iter'] == it
    return ckpt['state_dict']


def train(config: Path, work_dir: Path, procs: int, batch: int, options: List[str],
          env: dict):
    args = ['--work-dir', str(work_dir), '--cfg-options', *TINY, *options,
            f'train_dataloader.batch_size={batch}']
    if procs == 1:
        cmd = [sys.executable, 'tools/train.py', str(config), *args]
    else:
        cmd = ['bash', 'tools/dist_train.sh', str(config), str(procs), *args]
        env = dict(env, MASTER_PORT=str(free_port()))
    result = run_tool(cmd, env)
    assert result.returncode == 0, result.stdout[-8000:]
    return result.stdout


@pytest.mark.parametrize('level', sorted(LEVELS))
def test_two_ranks_equal_one_process_with_the_combined_batch(level, tmp_path,
                                                             tmp_path_factory):
    leaf, base, options = LEVELS[level]
    config = tmp_path / f'{level}_deterministic.py'
    config.write_text(textwrap.dedent(leaf.format(base=str(CONFIGS / base))))
    env = tool_env(tmp_path_factory.getbasetemp() / 'hvg_cache')

    train(config, tmp_path / 'one', 1, 4, options, env)
    log = train(config, tmp_path / 'two', 2, 2, options, env)
    assert 'on 2 processes (pytorch launcher)' in log  # the quiet console says so

    one, two = final_state(tmp_path / 'one'), final_state(tmp_path / 'two')
    assert one.keys() == two.keys()
    compared = [name for name, value in one.items() if value.is_floating_point()]
    for name in compared:
        diff = (two[name] - one[name]).abs().max().item() if one[name].numel() else 0.0
        assert diff <= TOL, f'{level} {name}: 2 ranks differ from 1 process by {diff}'
    # D and G weights and the generator's per-frame BatchNorm statistics (moved
    # from their initial zeros by the training steps) are among what agrees
    assert any(n.startswith('discriminator.') for n in compared)
    running = [n for n in compared if n.endswith('running_mean')]
    assert running and any(one[n].abs().max() > 0 for n in running)
    # the second iteration (a D and a G update) moved both networks far more
    # than the tolerance: the agreement is not that of unchanged weights
    before = final_state(tmp_path / 'one', it=1)
    for net in ('generator.', 'discriminator.'):
        assert max((one[n] - before[n]).abs().max().item() for n in compared
                   if n.startswith(net)) > 100 * TOL, net


def test_without_sync_bn_two_ranks_differ(tmp_path, tmp_path_factory):
    """The check above can fail: with rank-local BatchNorm statistics the
    generator trains on other normalisations and ends elsewhere."""
    leaf, base, options = LEVELS['level1']
    config = tmp_path / 'level1_deterministic.py'
    config.write_text(textwrap.dedent(leaf.format(base=str(CONFIGS / base))))
    env = tool_env(tmp_path_factory.getbasetemp() / 'hvg_cache')
    options = options + ['model.sync_bn=False']
    train(config, tmp_path / 'one', 1, 4, options, env)
    train(config, tmp_path / 'two', 2, 2, options, env)
    one, two = final_state(tmp_path / 'one'), final_state(tmp_path / 'two')
    gen = [k for k in one if k.startswith('generator.') and one[k].is_floating_point()]
    assert max((one[k] - two[k]).abs().max().item() for k in gen) > 100 * TOL


def test_each_trained_network_is_wrapped_and_frozen_levels_are_not(tmp_path):
    """MMSeparateDistributedDataParallel (the runtime config's wrapper) gives G and
    the D group a DDP each; the frozen previous levels of an upsampling level get
    none (no gradients to average), and checkpoints keep unwrapped keys."""
    import torch.distributed as dist
    from mmengine.config import Config
    from mmengine.model import MMDistributedDataParallel
    from mmengine.registry import init_default_scope

    from hvg.registry import MODEL_WRAPPERS, MODELS
    init_default_scope('hvg')
    level1 = Config.fromfile(str(CONFIGS / 'demo_l1_clips.py'))
    level1.merge_from_dict({o.split('=')[0]: int(o.split('=')[1]) for o in TINY[:3]})
    (tmp_path / 'l1.py').write_text(level1.pretty_text)
    torch.save({'state_dict': MODELS.build(level1.model).state_dict()}, tmp_path / 'l1.pth')
    level2 = Config.fromfile(str(CONFIGS / 'demo_l2_clips.py'))
    level2.merge_from_dict({
        'model.lowres_source.levels': [dict(config=str(tmp_path / 'l1.py'),
                                            checkpoint=str(tmp_path / 'l1.pth'))],
        **{o.split('=')[0]: int(o.split('=')[1]) for o in TINY[:3]},
        'model.discriminator.matching.base_channels': 2})
    model = MODELS.build(level2.model)
    model.prepare_lowres_source()  # what the first training step does
    frozen = {id(p) for level in model.lowres_source.levels for p in level.parameters()}
    assert frozen and not frozen & {id(p) for p in model.parameters()}
    plain_keys = list(model.state_dict())
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{free_port()}',
                            rank=0, world_size=1)
    try:
        wrapped = MODEL_WRAPPERS.build(dict(level2.model_wrapper_cfg, module=model,
                                            device_ids=None))
        children = dict(wrapped.module.named_children())
        assert isinstance(children['generator'], MMDistributedDataParallel)
        assert isinstance(children['discriminator'], MMDistributedDataParallel)
        assert 'prev_levels' not in children  # frozen levels are not submodules
        assert list(wrapped.module.state_dict()) == plain_keys
        # and unwrapped keys load into the wrapped model through both loaders:
        # mmengine's (the Runner's resume, which skips the wrappers) and torch's
        from mmengine.runner.checkpoint import load_state_dict as mmengine_load
        for load in (lambda m, s: mmengine_load(m, s, strict=True),
                     lambda m, s: m.load_state_dict(s, strict=True)):
            other = {k: v + 1 if v.is_floating_point() else v
                     for k, v in model.state_dict().items()}
            load(wrapped.module, other)
            assert all(torch.equal(v, other[k])
                       for k, v in wrapped.module.state_dict().items())
    finally:
        dist.destroy_process_group()
