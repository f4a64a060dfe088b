# An upsampling level, p(x_l | x_{l-1}): separable-3D conditional generator,
# spatial + temporal + matching discriminators (appendix B.2).
# Widths lost from the paper's text; this is a 6/32x32 -> 12/128x128 level with
# half of DVD-GAN's width (ch=48; G multipliers 8,8,8,4,2,1 for 4x4 -> 128x128;
# D multipliers as DVD-GAN's 128x128 discriminator).
model = dict(
    type='UpsamplingLevelGAN',
    discriminator_steps=2,
    # section 5.1: global-synchronous batch norm, per-frame statistics over the
    # global batch of all ranks (a no-op in one process)
    sync_bn=True,
    # Where fake pairs' x_{l-1} comes from (hvg/models/lowres_sources.py): the
    # leaf configs use FrozenLevels (eq. 3: the trained previous levels, set
    # with --cfg-options model.lowres_source.levels.0.checkpoint=PATH);
    # RealLowres conditions on the batch's real low-res clip (no checkpoint).
    lowres_source=dict(type='RealLowres'),
    # classes of a class-conditional level (0: unconditional), passed to the
    # generator and every discriminator: leaves set model.num_classes only
    num_classes=0,
    data_preprocessor=dict(type='VideoDataPreprocessor'),
    generator=dict(
        type='UpsamplingGenerator',
        num_frames=12,
        out_size=128,
        in_size=32,
        temporal_factor=2,
        base_channels=48,
        channel_mults=(8, 8, 8, 4, 2, 1),
        noise_dim=128,
        class_embed_dim=128,
        # the paper's 'same' 3x3 convolutions pad with zeros; 'reflect' (not
        # in the paper) removed the wrong edge columns of the demo's level 2
        # (docs/quality.md)
        padding_mode='zeros'),
    discriminator=dict(
        type='DiscriminatorGroup',
        spatial=dict(
            type='SpatialDiscriminator',
            base_channels=48,
            channel_mults=(1, 2, 4, 8, 16, 16),
            num_sampled_frames=8),
        temporal=dict(
            type='TemporalDiscriminator',
            base_channels=48,
            channel_mults=(1, 2, 4, 8, 16),
            num_3d_blocks=2,
            input_downsample=2),
        # Sees concat(x_{l-1}, S(x_l)) at x_{l-1}'s resolution.
        matching=dict(
            type='MatchingDiscriminator',
            base_channels=48,
            channel_mults=(2, 4, 8, 16),
            num_3d_blocks=2,
            input_downsample=1)),
    loss=dict(type='GeometricHingeLoss'))
