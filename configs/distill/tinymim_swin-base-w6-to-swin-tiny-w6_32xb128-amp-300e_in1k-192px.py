"""TinyMIM relations between Swin models: the SimMIM Swin-B/w6 teaches a Swin-T/w6 at 192 px
with the Q-K and V-V relations of its last block, window by window. At 192 px the last stage
is a 6 x 6 map, one window, in both; the student's last block gets the teacher's 32 heads
(head dim 24). The TinyMIM schedule (300 epochs, total batch 4096), crops at 192 px.

A variant of the ViT recipe that the TinyMIM paper does not report: FD
(fd_swin-base-w6-to-swin-tiny-w6_16xb128-amp-300e_in1k-192px.py) is the published way to
distil into Swin. Fine-tune the student with
swin-tiny-w7_tinymim-300e-pre_16xb128-coslr-100e_in1k-224px.py (its last block keeps 32 heads).
"""
_base_ = [
    '../_base_/datasets/imagenet_distill_224.py',
    '../_base_/schedules/tinymim-distill_adamw-coslr-300e.py',
    '../_base_/default_runtime.py',
]

# model zoo: Swin-B/w6, 800 epochs
teacher_checkpoint = 'simmim_swin-base-w6_16xb128-amp-step-800e_in1k-192px_official'

# Swin-T, window 6, its last block with 32 heads
student_stages = [dict(block_cfgs=dict(window_size=6))] * 3 + [
    dict(block_cfgs=[dict(window_size=6), dict(window_size=6, num_heads=32)])
]

model = dict(
    type='MIMDistiller',
    target='relations',
    teacher_block=-1,
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
        stage_cfgs=student_stages),
    distill_loss=dict(type='RelationDistillLoss'))

train_pipeline = [
    dict(type='LoadImageFromFileOrSkip'),
    dict(
        type='RandomResizedCrop',
        scale=192,
        crop_ratio_range=(0.2, 1.0),
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]
train_dataloader = dict(batch_size=128, dataset=dict(pipeline=train_pipeline))
