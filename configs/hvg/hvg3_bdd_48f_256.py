# The 3-level BDD100K model of section 5.3: 12/64x64 (subsampling 8) ->
# 24/128x128 (4) -> 48/256x256 (2), each upsampling level unrolled over the
# whole output of the level below.
hierarchy = dict(
    levels=[
        dict(config='{{ fileDirname }}/l1_bdd_12f_64.py', checkpoint=None),
        dict(config='{{ fileDirname }}/l2_bdd_128.py', checkpoint=None),
        dict(config='{{ fileDirname }}/l3_bdd_256.py', checkpoint=None),
    ],
    bn_passes=200,
    bn_batch_size=8,
    fps=30 / 2,  # BDD100K at 30 fps, subsampled by 2
)
