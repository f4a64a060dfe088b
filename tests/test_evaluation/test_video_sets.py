"""tools/analysis/compare_folders.py and hvg.evaluation.video_sets: any two sets
of videos on disk scored with the reference protocol, as ``compute_fvd`` does."""
import json
import tarfile
import zipfile

import decord
import numpy as np
import pytest
from PIL import Image

from hvg.evaluation import compute_fvd
from hvg.evaluation.video_sets import list_videos
from hvg.utils.cli import load_tool
from hvg.utils.video_io import write_video

SIZE = 32  # the I3D sees 32x32: fast, and the same code path as 224


def videos(seed: int, num: int, frames: int = 8) -> np.ndarray:
    """Smooth random uint8 videos (N, T, H, W, 3): blobs that move."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:32, :32] / 32.0
    out = np.empty((num, frames, 32, 32, 3), np.uint8)
    for n in range(num):
        colour, speed, phase = rng.random(3), rng.random(2) * 0.2, rng.random(2)
        for t in range(frames):
            cy, cx = (phase + speed * t) % 1.0
            blob = np.exp(-((y - cy) ** 2 + (x - cx) ** 2) * 12)
            out[n, t] = (255 * blob[..., None] * colour).astype(np.uint8)
    return out


def write_frame_folders(root, clips) -> None:
    for n, clip in enumerate(clips):
        (root / f'video_{n:02d}').mkdir(parents=True)
        for t, frame in enumerate(clip):
            Image.fromarray(frame).save(root / f'video_{n:02d}' / f'{t:04d}.png')


def run(argv):
    return load_tool('analysis/compare_folders.py').main([str(a) for a in argv])


def test_scores_agree_with_compute_fvd_on_the_same_arrays(tmp_path, i3d_file):
    real, fake = videos(0, 6), videos(1, 5)
    write_frame_folders(tmp_path / 'real', real)  # PNG: lossless
    write_frame_folders(tmp_path / 'frames', fake)
    with zipfile.ZipFile(tmp_path / 'fake.zip', 'w') as archive:
        for path in sorted((tmp_path / 'frames').rglob('*.png')):
            archive.write(path, path.relative_to(tmp_path / 'frames'))
    result = run([tmp_path / 'real', tmp_path / 'fake.zip', '--num-frames', 8,
                  '--i3d', i3d_file, '--i3d-size', SIZE, '--is-splits', 1,
                  '--out', tmp_path / 'scores.json'])
    expected = compute_fvd(real, fake, i3d_file, i3d_size=SIZE)
    assert result['scores']['fvd'] == pytest.approx(expected, rel=1e-9)
    assert result['num_real'] == 6 and result['num_fake'] == 5 and not result['skipped']
    written = json.loads((tmp_path / 'scores.json').read_text())
    assert written['scores']['fvd'] == pytest.approx(expected, rel=1e-9)
    assert written['protocol']['i3d_size'] == SIZE and written['scores']['fid'] > 0
    assert written['scores']['is_mean'] > 1  # 5 videos in one split
    # IS of chunks of one video is exactly 1: left out
    assert 'is_mean' not in run([tmp_path / 'real', tmp_path / 'fake.zip', '--num-frames', 8,
                                 '--i3d', i3d_file, '--i3d-size', SIZE,
                                 '--is-splits', 3])['scores']


def test_mp4_and_tar_sets_score_their_decoded_frames(tmp_path, i3d_file):
    real, fake = videos(2, 4), videos(3, 4)
    for name, clips in (('real', real), ('fake', fake)):
        for n, clip in enumerate(clips):
            write_video(tmp_path / name / f'{n}.mp4', clip, fps=8)
    with tarfile.open(tmp_path / 'fake.tar', 'w') as archive:
        archive.add(tmp_path / 'fake', arcname='fake')
    decoded = [np.stack([decord.VideoReader(str(tmp_path / name / f'{n}.mp4'))
                         .get_batch(range(8)).asnumpy() for n in range(4)])
               for name in ('real', 'fake')]
    result = run([tmp_path / 'real', tmp_path / 'fake.tar', '--num-frames', 8,
                  '--i3d', i3d_file, '--i3d-size', SIZE])
    assert result['scores']['fvd'] == pytest.approx(
        compute_fvd(*decoded, i3d_file, i3d_size=SIZE), rel=1e-9)


def test_unreadable_and_short_videos_are_skipped_and_listed(tmp_path, i3d_file):
    write_frame_folders(tmp_path / 'real', videos(4, 4))
    write_frame_folders(tmp_path / 'fake', videos(5, 4))
    clean = run([tmp_path / 'real', tmp_path / 'fake', '--num-frames', 8,
                 '--i3d', i3d_file, '--i3d-size', SIZE])
    (tmp_path / 'fake' / 'broken.mp4').write_bytes(b'not a video at all')
    write_video(tmp_path / 'fake' / 'short.gif', videos(6, 1, frames=3)[0], fps=8)
    result = run([tmp_path / 'real', tmp_path / 'fake', '--num-frames', 8,
                  '--i3d', i3d_file, '--i3d-size', SIZE])
    reasons = {s['video'].split('/')[-1]: s['reason'] for s in result['skipped']}
    assert set(reasons) == {'broken.mp4', 'short.gif'}
    assert reasons['broken.mp4'].startswith('unreadable')
    assert reasons['short.gif'] == '3 frames (after --frame-step), 8 needed'
    assert result['scores'] == clean['scores'] and result['num_fake'] == 4


def test_saved_real_statistics_give_the_same_scores_and_refuse_another_setting(
        tmp_path, i3d_file, capsys):
    write_frame_folders(tmp_path / 'real', videos(7, 5))
    write_frame_folders(tmp_path / 'fake', videos(8, 5))
    stats = tmp_path / 'real_stats.npz'
    direct = run([tmp_path / 'real', tmp_path / 'fake', '--num-frames', 8, '--i3d', i3d_file,
                  '--i3d-size', SIZE, '--save-real-stats', stats])
    with np.load(stats, allow_pickle=False) as arrays:  # plain arrays, no pickle
        assert int(arrays['logits.count']) == 5
    reused = run(['--real-stats', stats, tmp_path / 'fake', '--num-frames', 8,
                  '--i3d', i3d_file, '--i3d-size', SIZE])
    assert reused['scores'] == direct['scores']
    with pytest.raises(SystemExit) as refused:
        run(['--real-stats', stats, tmp_path / 'fake', '--num-frames', 4,
             '--i3d', i3d_file, '--i3d-size', SIZE])
    assert 'num_frames: 8 in the file, 4 now' in str(refused.value)
    assert str(stats) in str(refused.value)


def test_sets_without_videos_or_weights_are_clear_errors(tmp_path, i3d_file):
    (tmp_path / 'empty').mkdir()
    write_frame_folders(tmp_path / 'fake', videos(9, 2))
    with pytest.raises(SystemExit, match="no videos matching '\\*' in .*empty"):
        run([tmp_path / 'empty', tmp_path / 'fake', '--i3d', i3d_file, '--i3d-size', SIZE,
             '--num-frames', 8])
    with pytest.raises(SystemExit, match='prepare_i3d.py --out'):
        run([tmp_path / 'fake', tmp_path / 'fake', '--i3d', tmp_path / 'none.pth'])


def test_glob_picks_the_final_outputs_of_a_sample_folder(tmp_path):
    for name in ('sample_0000.mp4', 'sample_0000.gif', 'sample_0000_levels.mp4',
                 'sample_0001.mp4', 'notes.txt'):
        (tmp_path / name).write_bytes(b'')
    write_frame_folders(tmp_path / 'frames', videos(10, 1, frames=2))
    assert [n for n, _ in list_videos(str(tmp_path), 'sample_????.mp4')] == [
        'sample_0000.mp4', 'sample_0001.mp4']
    everything = [n for n, _ in list_videos(str(tmp_path))]
    assert everything == ['frames/video_00', 'sample_0000.gif', 'sample_0000.mp4',
                          'sample_0000_levels.mp4', 'sample_0001.mp4']
