"""Feature Distillation (FD) of the SimMIM Swin-B/w6 into a Swin-T/w6, 192 px (the teacher's
pretraining size, where window 6 tiles every stage), 300 epochs, total batch 2048.

The student's final map (768 x 6 x 6) goes through a 1x1 conv to the teacher's width (1024)
and regresses the teacher's final map, whitened by a LayerNorm without affine parameters,
with smooth-L1 (beta 2.0, as FD's code). Both models see the full image.
Recipe of FD's Swin config (github SwinTransformer/Feature-Distillation,
fd_pretrain__esvit_swin_base__img224__300ep.yaml): AdamW, weight decay 0.05, base lr 2e-4,
warmup lr 1e-6 and min lr 1e-5 per 512 images of total batch (128 per GPU), 10 warmup epochs
then cosine, gradient clipping 3.0, RandomResizedCrop scale 0.08-1.0 and flip. Drop path 0.1
for Swin-T.

    python tools/train.py configs/distill/fd_swin-base-w6-to-swin-tiny-w6_16xb128-amp-300e_in1k-192px.py \\
        --cfg-options model.teacher_checkpoint=work_dirs/simmim_swin-b/epoch_800.pth

``teacher_checkpoint``: a simmim_mm checkpoint, a converted file, a URL or a model-zoo name;
a raw official / hf / mmpretrain file with ``model.teacher_source``.
Fine-tune the student with swin-tiny-w7_fd-300e-pre_16xb128-coslr-100e_in1k-224px.py.
"""
_base_ = [
    '../_base_/datasets/imagenet_distill_224.py',
    '../_base_/default_runtime.py',
]

# model zoo: Swin-B/w6, 800 epochs
teacher_checkpoint = 'simmim_swin-base-w6_16xb128-amp-step-800e_in1k-192px_official'

model = dict(
    type='MIMDistiller',
    target='features',
    teacher=dict(
        type='SimMIMSwinTransformer',
        arch='base',
        img_size=192,
        stage_cfgs=dict(block_cfgs=dict(window_size=6))),
    teacher_checkpoint=teacher_checkpoint,
    backbone=dict(
        type='SimMIMSwinTransformer',
        arch='tiny',
        img_size=192,
        drop_path_rate=0.1,
        stage_cfgs=dict(block_cfgs=dict(window_size=6))),
    distill_loss=dict(type='FeatureDistillLoss', beta=2.0))

train_pipeline = [
    dict(type='LoadImageFromFileOrSkip'),
    dict(
        type='RandomResizedCrop',
        scale=192,
        crop_ratio_range=(0.08, 1.0),
        aspect_ratio_range=(3. / 4., 4. / 3.),
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=128, dataset=dict(pipeline=train_pipeline))

optim_wrapper = dict(
    type='AnyDeviceAmpOptimWrapper',
    optimizer=dict(
        type='AdamW', lr=2e-4 * 2048 / 512, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05),
    clip_grad=dict(max_norm=3.0),
    constructor='DistillerOptimWrapperConstructor',  # the frozen teacher in no param group
    paramwise_cfg=dict(
        flat_decay_mult=0.0,
        custom_keys={
            'absolute_pos_embed': dict(decay_mult=0.0),
            'mask_token': dict(decay_mult=0.0)
        }))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6 / 2e-4,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    # FD's timm scheduler has warmup_prefix=True: the cosine starts its phase after warmup,
    # as MMEngine's CosineAnnealingLR does from `begin`
    dict(
        type='CosineAnnealingLR',
        T_max=290,
        eta_min_ratio=1e-5 / 2e-4,
        by_epoch=True,
        begin=10,
        end=300,
        convert_to_iter_based=True),
]
train_cfg = dict(type='ResumableEpochBasedTrainLoop', max_epochs=300)  # resumes mid-epoch
auto_scale_lr = dict(base_batch_size=2048, enable=True)

# the student's mask token gets no gradient with full images
model_wrapper_cfg = dict(type='MMDistributedDataParallel', find_unused_parameters=True)
