# Distillation data as TinyMIM trains: full images (no mask), "simple augmentation" only:
# RandomResizedCrop(224, scale 0.2-1.0, bicubic) and a horizontal flip, ImageNet mean / std.
# (TinyMIM's code also colour-jitters the student's copy of the crop; here both models see
# the same image.) Any folder of images works: labels are not used.
dataset_type = 'CustomDataset'
data_root = 'data/imagenet/'

data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

train_pipeline = [
    dict(type='LoadImageFromFileOrSkip'),
    dict(type='RandomResizedCrop', scale=224, crop_ratio_range=(0.2, 1.0),
         backend='pillow', interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix='train',
        with_label=False,
        pipeline=train_pipeline))
