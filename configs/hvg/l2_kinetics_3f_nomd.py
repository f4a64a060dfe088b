# Matching-discriminator ablation (section 5.4, "No MD") in the paper's own
# setting: the 3-frame level 2 without its matching discriminator.
_base_ = ['./l2_kinetics_3f.py']

model = dict(discriminator=dict(matching=None))
