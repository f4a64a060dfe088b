# The 2-level Kinetics-600 model of section 5.2: level 1 makes 24/32x32
# (temporal subsampling 8), level 2 is unrolled over all of it: 48/128x128
# (subsampling 4). Checkpoints: set here or pass
#   python tools/sample.py configs/hvg/hvg2_kinetics_48f_128.py \
#       --checkpoints work_dirs/l1_kinetics_24f_32/iter_600000.pth \
#                     work_dirs/l2_kinetics_6f/iter_600000.pth --out samples/
hierarchy = dict(
    levels=[
        dict(config='{{ fileDirname }}/l1_kinetics_24f_32.py', checkpoint=None),
        dict(config='{{ fileDirname }}/l2_kinetics_6f.py', checkpoint=None),
    ],
    bn_passes=200,  # appendix A: dummy passes to recompute per-frame BN stats
    bn_batch_size=8,
    fps=25 / 4,  # Kinetics at ~25 fps, subsampled by 4
)
