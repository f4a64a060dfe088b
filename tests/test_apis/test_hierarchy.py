"""Loading a trained hierarchy and sampling it: the API and tools/sample.py."""
import os
import subprocess
import sys
from pathlib import Path

import decord
import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

import hvg.engine  # noqa: F401
from hvg.apis import Hierarchy
from hvg.apis.evaluate import generated_labels
from hvg.models.generators import temporal_halo

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / 'configs' / 'hvg' / 'hvg2_demo_clips.py'


@pytest.fixture
def hierarchy(demo_checkpoints):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield Hierarchy.from_config(str(DEMO), demo_checkpoints, bn_passes=2,
                                bn_batch_size=2)
    torch.set_num_threads(threads)


def test_sample_returns_every_level_unrolled_over_the_whole_input(hierarchy):
    level1, level2 = hierarchy.sample(3, seed=0)
    assert level1.shape == (3, 3, 12, 32, 32)
    # level 2 trained on 4-frame windows runs over all 12 level-1 frames
    assert level2.shape == (3, 3, 24, 64, 64)
    assert hierarchy.natural_frames() == 24
    assert level2.abs().max() <= 1


def test_same_seed_same_videos_other_seed_other_videos(hierarchy):
    first = hierarchy.sample(2, seed=5)
    again = hierarchy.sample(2, seed=5)
    other = hierarchy.sample(2, seed=6)
    for a, b in zip(first, again):
        assert torch.equal(a, b)
    assert not torch.allclose(first[-1], other[-1])


def test_window_protocol_upsamples_one_training_window(hierarchy):
    hierarchy.sample(1, seed=0)  # unroll first: the window must still use 4 frames
    level1, level2 = hierarchy.sample(2, seed=0, window=True)
    assert level1.shape[2] == 12
    assert level2.shape == (2, 3, 8, 64, 64)


def test_upsample_is_the_level_of_sample_on_any_input(hierarchy):
    labels = torch.tensor([0, 2, 1])
    level1, level2 = hierarchy.sample(3, labels=labels, seed=4)
    # the level-2 video of sample, from its level-1 video: the same noise, statistics
    assert torch.equal(hierarchy.upsample(1, level1, labels, seed=4), level2)
    assert torch.equal(hierarchy.upsample(1, level1[1:], labels[1:], seed=4, indices=[1, 2]),
                       level2[1:])
    # another input and another length: the level follows it (not sample's video)
    other = hierarchy.upsample(1, level1[:, :, :8].flip(2), labels, seed=4)
    assert other.shape == (3, 3, 16, 64, 64) and not torch.allclose(other, level2[:, :, :16])
    with pytest.raises(ValueError, match='not an upsampling level'):
        hierarchy.upsample(0, level1, labels)
    with pytest.raises(ValueError, match='class-conditional: pass the labels'):
        hierarchy.upsample(1, level1)


def test_num_frames_unrolls_level_one_too(hierarchy):
    level1, level2 = hierarchy.sample(1, seed=0, num_frames=32)
    assert level1.shape[2] == 16 and level2.shape[2] == 32
    with pytest.raises(ValueError, match='multiple of 2'):
        hierarchy.sample(1, num_frames=33)


def test_batchnorm_statistics_passes_show_progress_once_per_length(hierarchy, capsys):
    hierarchy.sample(1, seed=0, num_frames=32)
    err = capsys.readouterr().err  # not a terminal: a start and an end line each
    assert 'level 1: BatchNorm statistics for 16 frames (2 pass) ...' in err
    assert 'level 2: BatchNorm statistics for 32 frames: 2 pass in' in err
    hierarchy.sample(1, seed=0, num_frames=32)
    assert 'BatchNorm' not in capsys.readouterr().err  # cached: no passes, no bar


def test_sampling_other_lengths_leaves_the_levels_as_trained_and_caches(hierarchy):
    """The per-length statistics live in ``hierarchy.statistics``, not in the
    generators: their state dicts are bit-identical after sampling at other
    lengths, and a length seen before costs no dummy pass."""
    before = [{k: v.clone() for k, v in lvl.generator.state_dict().items()}
              for lvl in hierarchy.levels]
    passes = []
    for lvl in hierarchy.levels:
        lvl.generator.register_forward_pre_hook(lambda m, args: passes.append(m))
    first = hierarchy.sample(1, seed=0, num_frames=32)
    # 2 dummy passes of level 1; 1 sample; 2 of level 2, each on a level-1 sample; 1
    assert len(passes) == 2 + 1 + 2 * 2 + 1
    assert [s.lengths for s in hierarchy.statistics] == [[16], [32]]
    hierarchy.sample(1, seed=0)  # level 1 as trained, level 2 over its 12 frames
    assert len(passes) == 8 + 2 * 2 + 2
    assert [s.lengths for s in hierarchy.statistics] == [[16], [24, 32]]
    again = hierarchy.sample(1, seed=0, num_frames=32)
    assert len(passes) == 14 + 2, 'one pass per level, no dummy pass'
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    for lvl, state in zip(hierarchy.levels, before):
        after = lvl.generator.state_dict()
        assert after.keys() == state.keys()
        assert all(torch.equal(after[k], v) for k, v in state.items())
    assert hierarchy.levels[0].generator.num_frames == 12
    assert hierarchy.natural_frames() == 24


def test_streamed_sampling_equals_whole_and_never_runs_the_whole_video(
        hierarchy, demo_checkpoints):
    """``chunk_frames`` streams level 2 and its statistics passes: the same videos
    as whole-video sampling (statistics included), in passes of one window."""
    whole = Hierarchy.from_config(str(DEMO), demo_checkpoints, bn_passes=2,
                                  bn_batch_size=2)
    expected = whole.sample(2, seed=3, num_frames=48)
    level2 = hierarchy.levels[1].generator
    passes = []
    level2.register_forward_pre_hook(lambda m, args: passes.append(args[1].shape[2]))
    streamed = hierarchy.sample(2, seed=3, num_frames=48, chunk_frames=8)
    for a, b in zip(streamed, expected):
        assert a.shape == b.shape
        assert (a - b).abs().max() <= 1e-5
    # every pass (2 dummy passes, then the sample) is one window: 8 + 2 halos
    halo = temporal_halo(level2)
    assert passes and set(passes) == {(8 + 2 * halo) // 2} and max(passes) < 24


def test_missing_checkpoints_name_what_to_pass(tmp_path):
    config = tmp_path / 'h.py'
    config.write_text(
        "hierarchy = dict(levels=[dict(config='configs/hvg/demo_l1_clips.py', "
        "checkpoint=None)])\n")
    with pytest.raises(ValueError, match='--checkpoints'):
        Hierarchy.from_config(str(config))
    with pytest.raises(ValueError, match='1 levels but 2 checkpoints'):
        Hierarchy.from_config(str(config), ['a.pth', 'b.pth'])
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        Hierarchy.from_config(str(config), ['nowhere.pth'])


def test_sample_tool_writes_playable_videos(tmp_path, demo_checkpoints):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    out = tmp_path / 'samples'
    result = subprocess.run(
        [sys.executable, 'tools/sample.py', str(DEMO), '--checkpoints',
         *demo_checkpoints, '--num-samples', '3', '--batch-size', '2',
         '--bn-passes', '2', '--save-npy', '--out', str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    for i in range(3):
        stem = out / f'sample_{i:04d}'
        final = decord.VideoReader(f'{stem}.mp4')
        assert len(final) == 24 and final[0].shape[:2] == (64, 64)
        # level 1 beside level 2, upscaled x2 with a 2-pixel border, a title band above
        levels = decord.VideoReader(f'{stem}_levels.mp4')
        assert len(levels) == 24 and levels[0].shape[1] == 2 + 2 * 128 + 2
        title = levels[0].asnumpy()[:levels[0].shape[0] - 132]
        assert title.max() > 200  # white text on the band
        assert Image.open(f'{stem}.gif').n_frames >= 2
        # 24 frames of 64x64 shown at 128x128, 4 black pixels between and around
        strip = np.asarray(Image.open(f'{stem}_strip.png'))
        assert strip.shape == (4 + 128 + 4, 4 + 24 * (128 + 4), 3)
        assert (strip[:, 4 + 128:4 + 128 + 4] == 0).all()  # a gap between frames
        assert np.load(f'{stem}_level1.npy').shape == (3, 12, 32, 32)
        assert np.load(f'{stem}_level2.npy').shape == (3, 24, 64, 64)
    # the labelled grid of every sample: one row per class present, named
    labels = generated_labels(3, range(3), 0)
    rows, columns = len(set(labels.tolist())), max(np.bincount(labels))
    assert len(decord.VideoReader(str(out / 'levels_side_by_side.mp4'))) == 24
    still = np.asarray(Image.open(out / 'levels_side_by_side.png'))  # 3 frames stacked
    assert still.shape[0] == 3 * (11 + 6 + 2 + rows * (128 + 2))  # a title band on top
    # the final grid: a margin of class names left of the tiles
    width, _ = Image.open(out / 'hierarchy_final.gif').size
    assert width - (2 + columns * (128 + 2)) > 20
    assert (out / 'hierarchy_final.mp4').is_file()
    assert 'Wrote 3 samples' in result.stdout and 'grids of the first 3' in result.stdout


@pytest.mark.parametrize('path', sorted((REPO / 'configs' / 'hvg').glob('hvg*.py')),
                         ids=lambda p: p.stem)
def test_hierarchy_configs_chain_their_levels(path):
    """Each level's input is the previous level's output: size, classes, frame rate."""
    levels = [Config.fromfile(lvl['config'])
              for lvl in Config.fromfile(str(path)).hierarchy['levels']]
    assert levels[0].model.type == 'Level1GAN'
    for low, high in zip(levels, levels[1:]):
        assert high.model.type == 'UpsamplingLevelGAN'
        assert high.model.generator.in_size == low.model.generator.out_size
        assert high.model.num_classes == levels[0].model.num_classes
        # the level's training input comes at the rate of the level below
        low_interval = low.train_pipeline[1]['frame_interval']
        high_interval = high.train_pipeline[1]['frame_interval']
        assert high_interval * high.model.generator.temporal_factor == low_interval
    frames = levels[0].model.generator.num_frames
    for level in levels[1:]:
        frames *= level.model.generator.temporal_factor
    expected = int(path.stem.split('_')[2].rstrip('f')) if 'f_' in path.stem else frames
    assert frames == expected


# --- self-describing checkpoints ------------------------------------------------------
def narrow_level1_checkpoint(path: Path, with_config: bool = True) -> str:
    """A demo level 1 as ``tools/train.py --cfg-options model.generator.base_channels=4``
    writes it: other widths than the repository config, its config stored."""
    from mmengine.registry import init_default_scope

    from hvg.registry import MODELS
    init_default_scope('hvg')
    cfg = Config.fromfile(str(REPO / 'configs' / 'hvg' / 'demo_l1_clips.py'))
    cfg.merge_from_dict({'model.generator.base_channels': 4})
    state = {'state_dict': MODELS.build(cfg.model).state_dict()}
    if with_config:
        state['meta'] = {'cfg': cfg.pretty_text}
    torch.save(state, path)
    return str(path)


def test_a_level_trained_with_cfg_options_loads_as_it_was_trained(tmp_path,
                                                                  demo_checkpoints):
    narrow = narrow_level1_checkpoint(tmp_path / 'narrow_l1.pth')
    for config in (str(DEMO), None):  # with the hierarchy config, and without
        hierarchy = Hierarchy.from_config(config, [narrow, demo_checkpoints[1]],
                                          bn_passes=1, bn_batch_size=2)
        assert hierarchy.levels[0].generator.base_channels == 4
        level1, level2 = hierarchy.sample(1, seed=0)
        assert level2.shape == (1, 3, 24, 64, 64)


def test_checkpoints_alone_describe_the_hierarchy(demo_checkpoints):
    hierarchy = Hierarchy.from_config(None, demo_checkpoints, bn_passes=1)
    assert len(hierarchy.levels) == 2 and hierarchy.num_classes == 3
    with pytest.raises(ValueError, match='--cfg-options'):
        Hierarchy.from_config(None, demo_checkpoints, cfg_options={'a': 1})


def test_cfg_options_override_the_hierarchy_config(demo_checkpoints):
    hierarchy = Hierarchy.from_config(str(DEMO), demo_checkpoints,
                                      cfg_options={'hierarchy.fps': 3.0})
    assert hierarchy.fps == 3.0


def one_paragraph(error) -> str:
    message = str(error.value)
    assert '\n' not in message and len(message) < 1000, message
    return message


def test_levels_in_the_wrong_order_are_refused_naming_the_file(demo_checkpoints):
    level1, level2 = demo_checkpoints
    with pytest.raises(ValueError) as error:
        Hierarchy.from_config(None, [level2, level1])
    message = one_paragraph(error)
    assert level2 in message and 'level 1' in message and 'upsampling level' in message


def test_a_level_of_another_size_is_refused_naming_what_differs(tmp_path,
                                                                 demo_checkpoints):
    """Level 2 of the demo upsamples 32x32: a level 1 making 64x64 cannot feed it."""
    from mmengine.registry import init_default_scope

    from hvg.registry import MODELS
    init_default_scope('hvg')
    cfg = Config.fromfile(str(REPO / 'configs' / 'hvg' / 'demo_l1_clips.py'))
    cfg.merge_from_dict({'model.generator.out_size': 64,
                         'model.generator.channel_mults': (4, 4, 2, 2, 1)})
    path = tmp_path / 'big_l1.pth'
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict(),
                'meta': {'cfg': cfg.pretty_text}}, path)
    with pytest.raises(ValueError) as error:
        Hierarchy.from_config(None, [str(path), demo_checkpoints[1]])
    message = one_paragraph(error)
    assert demo_checkpoints[1] in message and 'level 2' in message
    assert '32x32' in message and '64x64' in message


def test_a_checkpoint_of_another_width_without_its_config_is_one_paragraph(
        tmp_path, demo_checkpoints):
    """Weights that do not fit the config they are loaded with: the file, the
    level, the first differing shapes and the count, not a wall of mismatches."""
    narrow = narrow_level1_checkpoint(tmp_path / 'bare_l1.pth', with_config=False)
    with pytest.raises(ValueError) as error:
        Hierarchy.from_config(str(DEMO), [narrow, demo_checkpoints[1]])
    message = one_paragraph(error)
    assert narrow in message and 'level 1' in message and 'another width' in message
    assert 'in the file' in message and 'more)' in message
    # and with no config to fall back on, it says what to pass
    with pytest.raises(ValueError, match='stores no config'):
        Hierarchy.from_config(None, [narrow, demo_checkpoints[1]])


def test_sample_tool_takes_checkpoints_alone(tmp_path, demo_checkpoints):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    out = tmp_path / 'samples'
    result = subprocess.run(
        [sys.executable, 'tools/sample.py', '--checkpoints', *demo_checkpoints,
         '--num-samples', '1', '--bn-passes', '1', '--out', str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (out / 'sample_0000.mp4').is_file()
    result = subprocess.run(
        [sys.executable, 'tools/sample.py', '--checkpoints', *demo_checkpoints[::-1],
         '--out', str(out)], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=300)
    assert result.returncode != 0 and 'cannot be level 1' in result.stderr
    assert 'Traceback' not in result.stderr


# --- seeds name videos --------------------------------------------------------------
def test_a_seed_and_an_index_name_one_video_whatever_the_batch(hierarchy):
    """Video i of seed s is the same at batch sizes 3 and 1, whole or streamed
    (to float rounding: convolutions of other batch sizes sum in another order);
    other seeds, and the next video of a seed, are other videos."""
    batch = hierarchy.sample(3, seed=7)
    for i in range(3):
        alone = hierarchy.sample(1, seed=7, indices=[i])
        for level in range(2):
            torch.testing.assert_close(alone[level][0], batch[level][i], rtol=0, atol=1e-4)
    streamed = hierarchy.sample(2, seed=7, indices=[1, 2], chunk_frames=8)
    torch.testing.assert_close(streamed[-1], batch[-1][1:], rtol=0, atol=1e-4)
    # seed + 1 is not the next video (the old seed + batch-index scheme)
    other = hierarchy.sample(1, seed=8)
    assert not torch.allclose(other[-1][0], batch[-1][1], atol=1e-3)
    assert not torch.allclose(batch[-1][0], batch[-1][1], atol=1e-3)
    with pytest.raises(ValueError, match='2 indices for 3 videos'):
        hierarchy.sample(3, seed=7, indices=[0, 1])


def test_mixed_seeds_do_not_collide():
    from hvg.models.batch_random import mix_seed
    seeds = {mix_seed(s, i) for s in range(20) for i in range(20)}
    assert len(seeds) == 400
    assert mix_seed(0, 1) != mix_seed(1, 0)
