"""A few-minute distillation on CPU: the demo Swin pretrained by
configs/demo/simmim_swin-demo_1xb8-800iter_photos-96px.py (48 wide, 2 blocks per stage)
teaches a Swin half as wide and half as deep (24 wide, 1 block per stage, the same heads)
with TinyMIM's relations of its last block, on the 15 photos bundled with scikit-image, at
the demo's 96 px and windows.

    python tools/train.py configs/demo/simmim_swin-demo_1xb8-800iter_photos-96px.py
    python tools/train.py configs/distill/tinymim_swin-demo-to-swin-demo-small_1xb8-200iter_photos-96px.py

The first writes the teacher checkpoint this config reads (``teacher_checkpoint``). Same
algorithm as the ImageNet configs; a fixed lr (1e-3, no batch scaling) and 200 iterations.
"""
_base_ = [
    '../_base_/datasets/imagenet_distill_224.py',
    '../_base_/schedules/tinymim-distill_adamw-coslr-300e.py',
    '../_base_/default_runtime.py',
]

teacher_checkpoint = 'work_dirs/simmim_swin-demo_1xb8-800iter_photos-96px/iter_800.pth'

# the demo's windows: 6, and 3 in the last stage, whose map is 3 x 3 at 96 px
demo_stages = [dict(block_cfgs=dict(window_size=6))] * 3 + [dict(block_cfgs=dict(window_size=3))]

model = dict(
    type='MIMDistiller',
    target='relations',
    teacher=dict(
        type='SimMIMSwinTransformer',
        img_size=96,
        stage_cfgs=demo_stages,
        arch=dict(embed_dims=48, depths=[2, 2, 2, 2], num_heads=[3, 6, 12, 24])),
    teacher_checkpoint=teacher_checkpoint,
    backbone=dict(
        type='SimMIMSwinTransformer',
        img_size=96,
        drop_path_rate=0.1,
        stage_cfgs=demo_stages,
        arch=dict(embed_dims=24, depths=[1, 1, 1, 1], num_heads=[3, 6, 12, 24])),
    distill_loss=dict(type='RelationDistillLoss'))

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='RandomResizedCrop',
        scale=96,
        crop_ratio_range=(0.2, 1.0),
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(_delete_=True, type='BundledPhotos', pipeline=train_pipeline))

optim_wrapper = dict(optimizer=dict(lr=1e-3))
auto_scale_lr = dict(enable=False)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-4, by_epoch=False, begin=0, end=20),
    dict(type='CosineAnnealingLR', T_max=180, eta_min=0.0, by_epoch=False, begin=20, end=200),
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=200)

default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(by_epoch=False, interval=100, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
