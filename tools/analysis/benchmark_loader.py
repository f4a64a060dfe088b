"""Data-loader throughput of a config: clips/s and frames decoded/s.

    python tools/analysis/benchmark_loader.py configs/hvg/l1_kinetics_24f_32.py \
        --data-root data/kinetics600
    python tools/analysis/benchmark_loader.py configs/hvg/l2_kinetics_6f.py \
        --synthetic 12 --synthetic-size 340x256 --synthetic-fps 25 --synthetic-seconds 10

Builds the config's ``train_dataloader`` as the Runner does (its dataset,
pipeline, sampler, collate and batch size) and times it with 0, 1 and 2
workers (``--workers``). For each it discards the batches made while the
workers start (one plus ``prefetch_factor`` per worker: they would come
back for free), then times ``--batches`` batches and prints:

- clips/s: clips delivered per second;
- frames decoded/s: the frames the pipeline asked decord for (``clip_len``
  per clip), and an estimate of the frames the decoder really decoded: from
  the keyframe before each clip's first frame to its last frame (H.264 can
  only start at a keyframe), plus frame 0 that ``DecordInit`` reads;
- the failed reads reported by the batches (``hvg.datasets.read_failures``);
- with 0 workers, the CPU time per clip (all threads of the process): a
  figure that other processes on the machine do not inflate, unlike the
  wall-clock rates (the load average is printed).

``--synthetic N`` writes N Kinetics-like videos (moving texture, H.264) of
the given size, rate and length into ``--video-cache`` (reused between runs)
and a matching CSV or folder for the config's dataset type
(``KineticsDataset``, ``BDD100KDataset``, ``VideoDataset``), so no dataset
is needed. Videos already in ``--video-cache`` are reused whatever their size:
to measure pre-resized copies, run ``tools/data/kinetics/resize_videos.py``
on ``{cache}/videos`` into another folder's ``videos`` and pass that folder.
Compare with the clips one training iteration consumes:
``batch_size / seconds_per_iteration`` (tools/analysis/benchmark_train.py).
"""
import csv
import os
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

import decord
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import hvg.datasets  # noqa: F401  (registers)
from hvg.datasets.read_failures import batch_read_report
from hvg.utils.cli import (DictAction, non_negative_int, positive_float, positive_int,
                           tool_parser)
from hvg.utils.video_io import write_mp4


# --- synthetic Kinetics-like videos --------------------------------------------
def textured_frames(num_frames: int, height: int, width: int,
                    seed: int) -> np.ndarray:
    """``(T, H, W, 3)`` uint8: a drifting texture with a moving blob and noise.

    Flat colours would decode unrealistically fast; this compresses to a
    few hundred kbit/s at 340x256, the order of Kinetics clips.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    freq = rng.uniform(0.02, 0.08, size=3)
    frames = np.empty((num_frames, height, width, 3), np.uint8)
    for t in range(num_frames):
        cy = height / 2 + height / 3 * np.sin(t / 15 + seed)
        cx = width / 2 + width / 3 * np.cos(t / 20 + seed)
        blob = 90 * np.exp(-((yy - cy)**2 + (xx - cx)**2) / (2 * 30.0**2))
        for c in range(3):
            wave = 60 * np.sin(freq[c] * (xx + 2 * t) + freq[c] * yy * (c + 1))
            noise = rng.normal(0, 6, size=(height, width))
            frames[t, :, :, c] = np.clip(110 + wave + blob + noise, 0, 255)
    return frames


def write_synthetic_set(cache: Path, num_videos: int, size: Tuple[int, int],
                        fps: float, seconds: float) -> List[Path]:
    """``num_videos`` videos ``{cache}/videos/train/vid{i}_000000_000010.mp4``."""
    width, height = size
    folder = cache / 'videos' / 'train'
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(num_videos):
        path = folder / f'vid{i:07d}_000000_000010.mp4'
        if not path.is_file():
            frames = textured_frames(round(fps * seconds), height, width, i)
            tmp = path.with_suffix('.tmp.mp4')
            write_mp4(tmp, frames, fps)
            os.replace(tmp, path)
        paths.append(path)
    return paths


def point_dataset_at(cfg: Config, cache: Path, paths: List[Path]) -> None:
    """Set the config's dataset to read the synthetic set."""
    dataset = cfg.train_dataloader.dataset
    dataset.data_root = str(cache)
    kind = dataset.type
    if kind == 'KineticsDataset':
        ann = cache / 'annotations' / 'train.csv'
        ann.parent.mkdir(exist_ok=True)
        with open(ann, 'w', newline='') as f:
            writer = csv.writer(f)
            writer.writerow(['label', 'youtube_id', 'time_start', 'time_end',
                             'split'])
            for i, path in enumerate(paths):
                writer.writerow([f'class {i % 3}', path.stem[:-14], 0, 10,
                                 'train'])
        dataset.update(ann_file=str(ann), video_dir='videos/train',
                       classes=None, num_classes=None)
    elif kind == 'BDD100KDataset':
        # BDD100K wants .mov: link the same files under that name.
        mov_dir = cache / 'bdd' / 'videos' / 'train'
        mov_dir.mkdir(parents=True, exist_ok=True)
        for path in paths:
            link = mov_dir / (path.stem + '.mov')
            if not link.exists():
                link.symlink_to(path)
        dataset.update(data_root=str(cache / 'bdd'), split='train')
    elif kind in ('VideoDataset', ):
        ann = cache / 'list.txt'
        ann.write_text(''.join(f'{p} 0\n' for p in paths))
        dataset.ann_file = str(ann)
    else:
        raise SystemExit(f'--synthetic does not know dataset type {kind}')


# --- timing --------------------------------------------------------------------
class DecodedFrames:
    """Estimates the frames the decoder decodes for a clip (see module doc)."""

    def __init__(self) -> None:
        self._keyframes: Dict[str, np.ndarray] = {}

    def __call__(self, filename: str, frame_inds: np.ndarray) -> int:
        if filename not in self._keyframes:
            reader = decord.VideoReader(filename, num_threads=1)
            self._keyframes[filename] = np.asarray(reader.get_key_indices())
        keys = self._keyframes[filename]
        first, last = int(frame_inds.min()), int(frame_inds.max())
        start = int(keys[keys <= first].max()) if np.any(keys <= first) else 0
        return (last - start + 1) + (1 if start > 0 else 0)


def frames_per_clip(batch: dict) -> int:
    inputs = batch['inputs']
    clip = inputs['highres'] if isinstance(inputs, dict) else inputs
    return int(clip.shape[2])


def time_loader(cfg: Config, num_workers: int, num_batches: int,
                decoded: DecodedFrames) -> dict:
    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg.update(num_workers=num_workers, persistent_workers=False)
    if num_workers == 0:
        loader_cfg.pop('prefetch_factor', None)
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    iterator = iter(loader)
    # Warm-up: worker start-up, and the batches the workers prefetch while
    # starting (prefetch_factor per worker), which would come back for free.
    prefetch = loader_cfg.get('prefetch_factor') or 2
    for _ in range(1 + num_workers * prefetch):
        next(iterator)
    clips = requested = attempts = failed = 0
    read = []  # (filename, frame_inds), for the decoded-frames estimate
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(num_batches):
        batch = next(iterator)
        size = len(batch['data_samples']['label'])
        clips += size
        requested += size * frames_per_clip(batch)
        report = batch_read_report(batch)
        attempts += report['attempts']
        failed += len(report['failures'])
        samples = batch['data_samples']
        if 'frame_inds' in samples and 'filename' in samples:
            read += zip(samples['filename'], samples['frame_inds'].numpy())
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    del iterator
    estimated = sum(decoded(name, inds) for name, inds in read)
    return dict(workers=num_workers, clips=clips, seconds=elapsed,
                clips_per_s=clips / elapsed,
                frames_per_s=requested / elapsed,
                decoded_per_s=estimated / elapsed if estimated else None,
                reads=attempts, failed=failed,
                # without workers the main process does all the work: its
                # CPU time per clip does not depend on other load
                cpu_ms_per_clip=1000 * cpu / clips if num_workers == 0 else None)


def parse_size(text: str) -> Tuple[int, int]:
    width, height = (int(v) for v in text.lower().split('x'))
    return width, height


def main(argv=None) -> None:
    parser = tool_parser(description=__doc__)
    parser.add_argument('config')
    parser.add_argument('--data-root', help='the dataset folder')
    parser.add_argument('--workers', type=non_negative_int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--batches', type=positive_int, default=10,
                        help='timed batches per worker count')
    parser.add_argument('--batch-size', type=positive_int,
                        help="default: the config's")
    parser.add_argument('--synthetic', type=positive_int, metavar='N',
                        help='write and read N synthetic videos')
    parser.add_argument('--synthetic-size', type=parse_size, default=(340, 256),
                        metavar='WxH')
    parser.add_argument('--synthetic-fps', type=positive_float, default=25)
    parser.add_argument('--synthetic-seconds', type=positive_float, default=10)
    parser.add_argument('--video-cache', help='where synthetic videos go '
                        '(default: $TMPDIR/hvg_loader_bench_WxH_FPS_S)')
    parser.add_argument('--threads', type=positive_int, default=1,
                        help='torch threads of the main process (DataLoader '
                        'workers always use 1)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    # With 0 workers the main process runs the pipeline (Resize uses torch):
    # one thread, as in a worker, so the rows compare like with like.
    torch.set_num_threads(args.threads)

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.batch_size:
        cfg.train_dataloader.batch_size = args.batch_size
    init_default_scope('hvg')
    if args.synthetic:
        width, height = args.synthetic_size
        cache = Path(args.video_cache or Path(
            tempfile.gettempdir(),
            f'hvg_loader_bench_{width}x{height}_{args.synthetic_fps:g}_'
            f'{args.synthetic_seconds:g}'))
        paths = write_synthetic_set(cache, args.synthetic, args.synthetic_size,
                                    args.synthetic_fps, args.synthetic_seconds)
        point_dataset_at(cfg, cache, paths)
        # described from the files: an existing cache may hold other sizes
        probe = decord.VideoReader(str(paths[0]), num_threads=1)
        height, width = probe[0].shape[:2]
        source = (f'{args.synthetic} videos in {cache}, {width}x{height}, '
                  f'{probe.get_avg_fps():g} fps, {len(probe)} frames')
    elif args.data_root:
        cfg.train_dataloader.dataset.data_root = args.data_root
        source = args.data_root
    else:
        source = str(cfg.train_dataloader.dataset.get('data_root'))

    print(f'{args.config}: batch {cfg.train_dataloader.batch_size}, {source}; '
          f'{os.cpu_count()} CPUs, torch {torch.__version__}, '
          f'{torch.get_num_threads()} main-process thread(s)')
    print(f'load average {os.getloadavg()[0]:.2f} (other processes slow the '
          'wall-clock figures)')
    print('workers  clips/s  frames requested/s  frames decoded/s (est.)  '
          'reads  failed  CPU ms/clip')
    decoded = DecodedFrames()
    for num_workers in args.workers:
        r = time_loader(cfg, num_workers, args.batches, decoded)
        est = f'{r["decoded_per_s"]:.0f}' if r['decoded_per_s'] else 'n/a'
        cpu = (f'{r["cpu_ms_per_clip"]:.0f}'
               if r['cpu_ms_per_clip'] is not None else 'n/a')
        print(f'{r["workers"]:>7}  {r["clips_per_s"]:7.2f}  '
              f'{r["frames_per_s"]:18.0f}  {est:>23}  {r["reads"]:5d}  '
              f'{r["failed"]:6d}  {cpu:>11}', flush=True)


if __name__ == '__main__':
    main()
