"""tools/demo.py without I3D weights: it says how to prepare them and still scores
grounding (the full demo run is in test_train_tools.py)."""
import subprocess
import sys
from pathlib import Path

from mmengine.config import Config
from subprocess_utils import tool_env

REPO = Path(__file__).resolve().parents[2]


def test_demo_without_i3d_still_scores_grounding(tmp_path, tmp_path_factory):
    env = dict(tool_env(tmp_path_factory.getbasetemp() / 'hvg_cache'),
               PYTHONPATH=str(REPO))
    work = tmp_path / 'demo'
    result = subprocess.run(
        [sys.executable, 'tools/demo.py', '--work-dir', str(work), '--l1-iters', '1',
         '--l2-iters', '1', '--eval-samples', '4', '--bn-passes', '1',
         '--samples-per-class', '1', '--seed', '3', '--i3d', str(tmp_path / 'missing.pth'),
         '--l1-cfg-options', 'model.generator.base_channels=4',
         '--l2-cfg-options', 'model.discriminator.matching.base_channels=4'],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert 'class consistency will be skipped' in result.stdout
    assert 'prepare_i3d.py --out' in result.stdout
    assert 'level-2 grounding (unrolled, 4 samples)' in result.stdout
    assert 'level-1 class consistency' not in result.stdout
    dumped = (work / 'level1' / 'demo_l1_clips.py').read_text()
    assert 'randomness = dict(seed=3)' in dumped  # --seed reaches the levels' randomness
    assert 'randomness = dict(seed=3)' in (work / 'level2' / 'demo_l2_clips.py').read_text()
    # each level's --lN-cfg-options reach that level only
    level1 = Config.fromfile(str(work / 'level1' / 'demo_l1_clips.py'))
    level2 = Config.fromfile(str(work / 'level2' / 'demo_l2_clips.py'))
    assert level1.model.generator.base_channels == 4
    assert level2.model.generator.base_channels == 8
    assert level2.model.discriminator.matching.base_channels == 4


def test_demo_refuses_a_misspelt_level2_option_before_training_level1(tmp_path):
    work = tmp_path / 'demo'
    result = subprocess.run(
        [sys.executable, 'tools/demo.py', '--work-dir', str(work),
         '--l2-cfg-options', 'default_hooks.checkpoint.intreval=5'],
        cwd=REPO, env=dict(tool_env(tmp_path / 'cache'), PYTHONPATH=str(REPO)),
        capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "demo_l2_clips.py: default_hooks.checkpoint.intreval" in result.stderr
    assert "did you mean 'interval'?" in result.stderr
    assert 'Traceback' not in result.stderr
    assert not work.exists()  # level 1 never started
