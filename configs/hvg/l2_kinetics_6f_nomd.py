# Matching-discriminator ablation (section 5.4, "No MD"): the 6-frame level 2
# without its matching discriminator.
_base_ = ['./l2_kinetics_6f.py']

model = dict(discriminator=dict(matching=None))
