# Matching-discriminator ablation, small setting ("No MD", Table 2): l2_clips_3f.py
# (3/32x32 -> 6/64x64) without its matching discriminator, as
# l2_kinetics_3f_nomd.py is to l2_kinetics_3f.py.
_base_ = ['./l2_clips_3f.py']

model = dict(discriminator=dict(matching=None))
