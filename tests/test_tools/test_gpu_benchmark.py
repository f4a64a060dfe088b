"""tools/analysis/gpu_benchmark.sh --dry-run: every step of the GPU benchmark runs
(on the CPU, tiny, gloo) and the JSON and markdown report are written; and the
report's MFU arithmetic and device-peak lookup."""
import json
import shutil

import pytest
from subprocess_utils import REPO, run_tool, tool_env

from hvg.utils.cli import load_tool


@pytest.mark.skipif(shutil.which('timeout') is None, reason='needs coreutils timeout')
def test_dry_run_writes_the_report_of_every_step(tmp_path):
    out = tmp_path / 'bench'
    result = run_tool(['bash', 'tools/analysis/gpu_benchmark.sh', str(out), '--dry-run'],
                      tool_env(tmp_path / 'cache'), timeout=900)
    assert result.returncode == 0, result.stdout[-4000:]
    report = json.loads((out / 'gpu_benchmark.json').read_text())
    failed = [s for s in report['steps'] if s['rc'] != '0']
    assert not failed, (failed, result.stdout[-4000:])
    assert report['dry_run'] and report['device_name'] == 'cpu'
    configs = {(r['config'].split('/')[-1], r['precision']) for r in report['train']}
    assert configs == {('l2_kinetics_3f.py', 'fp32'), ('l2_kinetics_3f.py', 'amp')}
    assert all(r['cycle_gflops'] > 0 for r in report['train'])
    assert {r['amp_dtype'] for r in report['train'] if r['precision'] == 'amp'} == {'bfloat16'}
    dist, = report['dist_train']
    assert dist['rc'] == 0 and dist['backend'] == 'gloo' and dist['finite']
    assert {r['model'] for r in report['memory_scaling']} == {'flat', 'level1', 'level2'}
    sampling, = report['sampling']
    assert (sampling['frames'], sampling['size'], sampling['weights']) == (48, 128, 'random')
    assert report['i3d'][0]['clips_per_s'] > 0
    table = (out / 'gpu_benchmark.md').read_text()
    assert '**Dry run**' in table and '| l2_kinetics_3f.py | amp (bfloat16) |' in table
    assert 'No bf16 peak known for this device' in table


def test_report_mfu_uses_the_cards_bf16_peak(tmp_path):
    bench = load_tool('analysis/gpu_benchmark.py')
    assert bench.peak_tflops('NVIDIA H100 80GB HBM3') == 989.0
    assert bench.peak_tflops('NVIDIA H100 PCIe') == 756.0
    assert bench.peak_tflops('NVIDIA A100-SXM4-80GB') == 312.0
    assert bench.peak_tflops('cpu') is None
    row = dict(config='configs/hvg/l2_kinetics_6f.py', device_name='NVIDIA H200',
               precision='amp', amp_dtype='bfloat16', batch_size=8, sec_per_iter=0.5,
               clips_per_s=16.0, peak_mem_mib=9000.0, cycle_gflops=300000.0,
               cycle_tflops_per_s=400.0)
    (tmp_path / 'train.jsonl').write_text(json.dumps(row) + '\n')
    report = bench.build_report(str(tmp_path), None, False)
    assert report['peak_tflops_bf16'] == 989.0
    assert report['train'][0]['mfu'] == round(400 / 989, 4)
    assert '| l2_kinetics_6f.py | amp (bfloat16) | 8 |' in bench.markdown(report)
    assert bench.build_report(str(tmp_path), 500.0, False)['train'][0]['mfu'] == 0.8
