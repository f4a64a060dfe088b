"""Distributed start-up shared by ``tools/train.py`` and ``tools/test.py``.

torchrun (``--launcher pytorch``: ``tools/dist_*.sh``) and Slurm
(``--launcher slurm``: ``tools/slurm_train.sh``) set each process's rank and
rendezvous; ``init_launcher`` starts the process group from them: NCCL on
GPUs, gloo on CPUs (the same job runs on a laptop). mmengine's ``init_dist``
calls ``torch.cuda.set_device`` and so fails without CUDA, hence this helper.
"""
import datetime
import os
import subprocess
from typing import MutableMapping, Optional

import torch


def slurm_to_torchrun_env(environ: MutableMapping[str, str] = os.environ) -> None:
    """Export a Slurm task's rank and rendezvous as torchrun's variables.

    RANK / WORLD_SIZE / LOCAL_RANK from SLURM_PROCID / SLURM_NTASKS /
    SLURM_LOCALID; MASTER_ADDR, unless set, is the first host of
    SLURM_NODELIST (``scontrol show hostnames``); MASTER_PORT defaults to 29500.

    Raises:
        RuntimeError: outside a Slurm task, or the first host is unknown.
    """
    missing = [k for k in ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_LOCALID')
               if k not in environ]
    if missing:
        raise RuntimeError(f'--launcher slurm: {", ".join(missing)} not set; run under '
                           'srun (tools/slurm_train.sh)')
    environ['RANK'] = environ['SLURM_PROCID']
    environ['WORLD_SIZE'] = environ['SLURM_NTASKS']
    environ['LOCAL_RANK'] = environ['SLURM_LOCALID']
    if 'MASTER_ADDR' not in environ:
        nodes = environ.get('SLURM_NODELIST', '')
        try:
            hosts = subprocess.run(['scontrol', 'show', 'hostnames', nodes],
                                   capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError) as error:
            raise RuntimeError(f'--launcher slurm: cannot resolve the first host of '
                               f'SLURM_NODELIST={nodes!r} ({error}); set MASTER_ADDR')
        environ['MASTER_ADDR'] = hosts.split()[0]
    environ.setdefault('MASTER_PORT', '29500')


def init_launcher(launcher: str, backend: Optional[str] = None,
                  timeout: Optional[float] = 3600) -> Optional[str]:
    """Start this process's group for ``launcher``; return its device.

    Args:
        launcher: ``'none'`` (nothing to do), ``'pytorch'`` (torchrun's
            variables) or ``'slurm'`` (exported as torchrun's first).
        backend: None: ``'nccl'`` with CUDA, else ``'gloo'``.
        timeout: seconds a collective may wait (None: torch's default).

    Returns:
        ``'cuda:<LOCAL_RANK>'`` (made the current device) with CUDA,
        ``'cpu'`` without, None for ``'none'``.

    Raises:
        RuntimeError: another launcher, or Slurm variables missing.
    """
    if launcher == 'none':
        return None
    if launcher == 'slurm':
        slurm_to_torchrun_env()
    elif launcher != 'pytorch':
        raise RuntimeError(f'--launcher {launcher} is not supported here; use pytorch '
                           '(tools/dist_train.sh) or slurm (tools/slurm_train.sh)')
    device = 'cpu'
    if torch.cuda.is_available():
        device = f'cuda:{int(os.environ.get("LOCAL_RANK", 0))}'
        torch.cuda.set_device(device)
    options = dict(backend=backend or ('nccl' if device != 'cpu' else 'gloo'))
    if timeout is not None:
        options['timeout'] = datetime.timedelta(seconds=timeout)
    torch.distributed.init_process_group(**options)
    return device


def finish_launcher() -> None:
    """Wait for every rank, then close the process group (if one was started)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()
