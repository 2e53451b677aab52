# The official SimMIM Swin-B 100-epoch recipe, per 512 images of total batch:
# base lr 2e-4, warmup lr 1e-6, min lr 1e-5; the reference total batch is 2048 (16 x 128).
# auto_scale_lr rescales lr linearly to the real total batch (GPUs x batch_size); warmup and
# min lr are ratios of lr, so they follow as in the official code.
optim_wrapper = dict(
    # fp16 + dynamic loss scaling on GPUs as the official code; bf16 autocast on CPU
    type='AnyDeviceAmpOptimWrapper',
    # the fused AdamW kernel and foreach clipping: the same update and norm, computed in a
    # few kernels instead of a few per parameter (a train step 1.07x faster on a CPU)
    optimizer=dict(
        type='AdamW',
        lr=2e-4 * 2048 / 512,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.05,
        fused=True),
    clip_grad=dict(max_norm=5.0, foreach=True),
    # Weight decay exactly as the official pretraining (get_pretrain_param_groups on the
    # SimMIM wrapper): none for 1-D parameters (norms, biases; flat_decay_mult), nor for the
    # names in the encoder's no_weight_decay(): Swin's mask_token and absolute_pos_embed.
    # The official code also lists the keyword 'relative_position_bias_table', but the wrapper
    # prefixes it with 'encoder.' and a substring test of 'encoder.relative_position_bias_table'
    # never matches 'encoder.layers.0.blocks.0.attn.relative_position_bias_table': the official
    # runs DECAY the relative position bias tables, and so do we (fine-tuning, on the bare
    # encoder, excludes them). tests/test_engine/test_official_param_groups.py checks this.
    paramwise_cfg=dict(
        flat_decay_mult=0.0,
        custom_keys={
            'absolute_pos_embed': dict(decay_mult=0.0),
            'mask_token': dict(decay_mult=0.0),
        }))
# Not the official runs: to exempt what the official keywords were meant to exempt (Swin's
# tables; SwinV2's tables, cpb_mlp weights and logit_scale), add to a config:
#   optim_wrapper = dict(paramwise_cfg=dict(custom_keys={
#       'relative_position_bias_table': dict(decay_mult=0.0),
#       'cpb_mlp': dict(decay_mult=0.0), 'logit_scale': dict(decay_mult=0.0)}))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6 / 2e-4,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    dict(
        type='FullPhaseCosineAnnealingLR',
        T_max=100,
        eta_min_ratio=1e-5 / 2e-4,
        by_epoch=True,
        begin=10,
        end=100,
        convert_to_iter_based=True),
]

# MMEngine's EpochBasedTrainLoop (same epochs and lr curve) that resumes exactly where a
# mid-epoch checkpoint was taken: the next batch of that epoch, with the same augmentation
# (default_hooks.resume_point in default_runtime.py saves every 30 min and on SIGTERM)
train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=100)
auto_scale_lr = dict(base_batch_size=2048, enable=True)
