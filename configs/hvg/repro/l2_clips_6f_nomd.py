# Matching-discriminator ablation, small setting ("No MD", Table 2): l2_clips_6f.py
# (6/32x32 -> 12/64x64) without its matching discriminator, as
# l2_kinetics_6f_nomd.py is to l2_kinetics_6f.py.
_base_ = ['./l2_clips_6f.py']

model = dict(discriminator=dict(matching=None))
