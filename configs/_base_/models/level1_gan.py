# Level 1, p(x_1): ConvGRU generator, spatial + temporal discriminators.
# Appendix B.1 lost its widths; these are DVD-GAN's (ch=96; G multipliers
# 8,8,4,2 for a 4-unit 4x4->32x32 generator; D multipliers 2,4,8,16).
model = dict(
    type='Level1GAN',
    discriminator_steps=2,
    # section 5.1: global-synchronous batch norm, per-frame statistics over the
    # global batch of all ranks (a no-op in one process)
    sync_bn=True,
    # classes of a class-conditional level (0: unconditional), passed to the
    # generator and every discriminator: leaves set model.num_classes only
    num_classes=0,
    data_preprocessor=dict(type='VideoDataPreprocessor'),
    generator=dict(
        type='Level1Generator',
        num_frames=24,
        out_size=32,
        base_channels=96,
        channel_mults=(8, 8, 4, 2),
        noise_dim=128,
        class_embed_dim=128,
        # ConvGRU steps on the first input before the first output; 0 is the
        # paper's zero initial state (not a cause of the blurred first frames:
        # docs/reproduction.md)
        gru_burn_in=0,
        # the paper's 'same' 3x3 convolutions pad with zeros; 'reflect' or
        # 'replicate' (not in the paper) pad with the frame's own features
        # (docs/architecture.md)
        padding_mode='zeros'),
    discriminator=dict(
        type='DiscriminatorGroup',
        spatial=dict(
            type='SpatialDiscriminator',
            base_channels=96,
            channel_mults=(2, 4, 8, 16),
            num_sampled_frames=8,
            # not in the paper, 0 = off: > 0 adds a minibatch-std channel over
            # groups of that many videos (docs/architecture.md; it did not
            # help the demo: docs/quality.md)
            minibatch_std_group=0),
        temporal=dict(
            type='TemporalDiscriminator',
            base_channels=96,
            channel_mults=(2, 4, 8, 16),
            num_3d_blocks=2,
            input_downsample=2,
            minibatch_std_group=0)),
    loss=dict(type='GeometricHingeLoss'))
