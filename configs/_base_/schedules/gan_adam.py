# Adam for G and D with separate learning rates, iteration-based schedule.
# The paper's learning rates were lost from its text: these are DVD-GAN's
# (G 1e-4, D 5e-4, beta1=0, beta2=0.999), the model HVG builds on.
optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=1e-4, betas=(0.0, 0.999), eps=1e-6)),
    discriminator=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=5e-4, betas=(0.0, 0.999), eps=1e-6)))

# One runner iteration = one discriminator update; the generator is updated
# every `model.discriminator_steps` iterations (mmagic's convention). The
# paper's 300k Kinetics iterations are generator iterations: 600k here with
# discriminator_steps=2.
train_cfg = dict(type='IterBasedTrainLoop', max_iters=600000)
