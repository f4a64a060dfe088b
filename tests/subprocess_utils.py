"""Running the tools as a user does, in subprocesses that cannot hang a test.

``from subprocess_utils import run_tool, free_port, tool_env`` (``tests/`` is on
``sys.path`` through ``tests/conftest.py``).
"""
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_S = 240


def tiny_train_options(max_iters: int, checkpoint_interval: int = 2,
                       num_samples: int = 4) -> List[str]:
    """``--cfg-options`` that train the demo level 1 at width 2 in seconds."""
    return [
        'model.generator.base_channels=2',
        'model.discriminator.spatial.base_channels=2',
        'model.discriminator.temporal.base_channels=2',
        'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        f'train_cfg.max_iters={max_iters}',
        f'default_hooks.checkpoint.interval={checkpoint_interval}',
        'default_hooks.samples.interval=0',
        f'default_hooks.samples.num_samples={num_samples}',
        'default_hooks.logger.interval=1',
    ]


def tool_env(cache_dir: Path) -> dict:
    """The environment of a tool run: sample-clip cache, one thread, this Python."""
    env = dict(os.environ)
    env['HVG_CACHE_DIR'] = str(cache_dir)
    env['OMP_NUM_THREADS'] = '1'  # tiny models on a shared machine
    # `python` in the shell launchers must be this interpreter
    env['PATH'] = os.pathsep.join([str(Path(sys.executable).parent), env.get('PATH', '')])
    return env


def run_tool(args: List[str], env: dict,
             timeout: int = TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run ``args`` from the repository root in its own process group.

    The whole group is killed on timeout, so a hung distributed job fails the
    test instead of blocking it.
    """
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        pytest.fail(f'{" ".join(args)} did not finish in {timeout}s:\n{output[-5000:]}')
    return subprocess.CompletedProcess(args, proc.returncode, output, None)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


# srun as far as tools/slurm_train.sh needs it: --ntasks=N copies of the command,
# each with the variables a Slurm task gets.
FAKE_SRUN = '''#!/usr/bin/env bash
set -u
ntasks=1
while [ $# -gt 0 ] && [ "${1#-}" != "$1" ]; do
    case "$1" in
        --ntasks=*) ntasks=${1#--ntasks=}; shift ;;
        -p) shift 2 ;;
        *) shift ;;
    esac
done
pids=()
for ((i = 0; i < ntasks; i++)); do
    SLURM_PROCID=$i SLURM_LOCALID=$i SLURM_NTASKS=$ntasks SLURM_NODELIST=localhost "$@" &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
'''


def fake_srun_bin(tmp_path) -> str:
    """A folder with the fake ``srun`` above, to put first on PATH."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / 'srun').write_text(FAKE_SRUN)
    (bin_dir / 'srun').chmod(0o755)
    return str(bin_dir)
