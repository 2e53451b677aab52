# TinyMIM's distillation schedule (github OliverRensu/TinyMIM main_pretrain.py, MAE's code):
# 300 epochs, AdamW betas (0.9, 0.95), weight decay 0.05 except 1-D parameters (norms,
# biases), lr = 1.5e-4 * total batch / 256 for a total batch of 4096, 15 linear warmup
# epochs then a half cosine to 0, per iteration; no gradient clipping; fp16 autocast with
# loss scaling on GPUs.
optim_wrapper = dict(
    type='AnyDeviceAmpOptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1.5e-4 * 4096 / 256, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.05),
    # the frozen teacher is in no param group
    constructor='DistillerOptimWrapperConstructor',
    paramwise_cfg=dict(flat_decay_mult=0.0))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-4,
        by_epoch=True,
        begin=0,
        end=15,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        T_max=285,
        eta_min=0.0,
        by_epoch=True,
        begin=15,
        end=300,
        convert_to_iter_based=True),
]

train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=300)  # resumes mid-epoch
auto_scale_lr = dict(base_batch_size=4096, enable=True)

# The student's blocks past the distilled one's q / k / v (TinyMIM: its proj and MLP, the
# final norm) and its mask token get no gradient with full images, as in TinyMIM's DDP.
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
