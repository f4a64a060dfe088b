# The demo hierarchy trained by tools/demo.py on the sample clips: 12/32x32,
# level 2 unrolled to 24/64x64.
hierarchy = dict(
    levels=[
        dict(config='{{ fileDirname }}/demo_l1_clips.py',
             checkpoint='work_dirs/demo/level1/iter_600.pth'),
        dict(config='{{ fileDirname }}/demo_l2_clips.py',
             checkpoint='work_dirs/demo/level2/iter_300.pth'),
    ],
    bn_passes=8,
    bn_batch_size=8,
    fps=12,  # the clips at 25 fps, subsampled by 2
)
