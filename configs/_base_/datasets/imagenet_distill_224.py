# Distillation data as TinyMIM trains: full images (no mask), "simple augmentation" only:
# RandomResizedCrop(224, scale 0.2-1.0, bicubic) and a horizontal flip, ImageNet mean / std.
# (TinyMIM's code also colour-jitters the student's copy of the crop; here both models see
# the same image.) The folder, loader and preprocessor are SimMIM pretraining's: any folder
# of images works, labels are not used.
_base_ = 'imagenet_simmim_192.py'

train_pipeline = [
    dict(type='LoadImageFromFileOrSkip'),
    dict(
        type='RandomResizedCrop',
        scale=224,
        crop_ratio_range=(0.2, 1.0),
        backend='pillow',
        interpolation='bicubic'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackInputs'),
]

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
