# The official SimMIM ImageNet-1K fine-tuning schedule, per 512 images of total batch:
# base lr 1.25e-3, warmup and min lr 2.5e-7, 20 warmup epochs then cosine, 100 epochs;
# AdamW wd 0.05, clip 5.0, layer-wise lr decay (set per config). Reference total batch 2048.
optim_wrapper = dict(
    type='AnyDeviceAmpOptimWrapper',
    # fused AdamW and foreach clipping, as in pretraining (simmim-pretrain_adamw-coslr-100e.py)
    optimizer=dict(
        type='AdamW',
        lr=1.25e-3 * 2048 / 512,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.05,
        fused=True),
    clip_grad=dict(max_norm=5.0, foreach=True),
    constructor='LearningRateDecayOptimWrapperConstructor',  # mmpretrain's
    paramwise_cfg=dict(
        layer_decay_rate=0.9,
        flat_decay_mult=0.0,
        custom_keys={
            'absolute_pos_embed': dict(decay_mult=0.0),
            'relative_position_bias_table': dict(decay_mult=0.0),
            'cls_token': dict(decay_mult=0.0),
            'pos_embed': dict(decay_mult=0.0),
        }))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=2.5e-7 / 1.25e-3,
        by_epoch=True,
        begin=0,
        end=20,
        convert_to_iter_based=True),
    dict(
        type='FullPhaseCosineAnnealingLR',
        T_max=100,
        eta_min_ratio=2.5e-7 / 1.25e-3,
        by_epoch=True,
        begin=20,
        end=100,
        convert_to_iter_based=True),
]

# MMEngine's epoch loop that also resumes mid-epoch (default_hooks.resume_point saves there)
train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=2048, enable=True)
