# SimMIM pretraining data: any folder of images, searched recursively, labels ignored.
# ImageNet-1K: data_root='data/imagenet/' with its train/ folder (class folders are fine).
# Your own data: set data_root / data_prefix to the folder (--cfg-options works too).
dataset_type = 'CustomDataset'
data_root = 'data/imagenet/'

data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],  # ImageNet mean / std on the 0-255 scale
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

# The official augmentation and nothing else. Pillow bilinear resizing is what the
# official torchvision RandomResizedCrop does on PIL images (antialiased downscaling).
train_pipeline = [
    # an unreadable file is skipped and logged once; >1% unreadable stops the run
    dict(type='LoadImageFromFileOrSkip'),
    dict(type='RandomResizedCrop', scale=192, crop_ratio_range=(0.67, 1.0),
         aspect_ratio_range=(3. / 4., 4. / 3.), backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='SimMIMMaskGenerator', input_size=192, mask_patch_size=32,
         model_patch_size=4, mask_ratio=0.6),
    dict(type='PackInputs'),  # packs `mask` into DataSample.mask
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
