# SimMIM pretraining data: any folder of images, searched recursively, labels ignored.
# ImageNet-1K: data_root='data/imagenet/' with its train/ folder (class folders are fine).
# Your own data: set data_root / data_prefix to the folder (--cfg-options works too).
# WebDataset shards instead of a folder (a path, brace pattern, http(s):// or pipe: command):
#   --cfg-options 'train_dataloader.dataset.shards=data/in1k-shards/shards-{000000..000139}.tar'
# (ResumableEpochBasedTrainLoop then streams them: see WebDatasetShards and
# docs/en/user_guides/data_preparation.md).
dataset_type = 'CustomDataset'
data_root = 'data/imagenet/'

data_preprocessor = dict(
    type='SelfSupDataPreprocessor',
    mean=[123.675, 116.28, 103.53],  # ImageNet mean / std on the 0-255 scale
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

# The official augmentation and nothing else. The official torchvision RandomResizedCrop
# resizes a PIL image with Pillow's antialiased bilinear filter. TorchRandomResizedCrop is
# mmpretrain's RandomResizedCrop (the same crop boxes from the same random draws) resizing
# with torch's antialiased uint8 bilinear kernel instead: every pixel within +-1 of
# Pillow's (tests/test_datasets/test_fast_pipeline.py), the resize about 3x and the pipeline
# about 1.6x as fast per worker (docs/en/useful_tools/benchmark.md). Pillow's pixels exactly,
# at its speed:
#   --cfg-options train_dataloader.dataset.pipeline.1.backend=pillow
# The decoder (cv2's libjpeg-turbo) gives exactly Pillow's pixels for 8-bit JPEGs and PNGs
# (but turns EXIF-rotated photos upright, as mmcv always did; torchvision's loader does not).
train_pipeline = [
    # an unreadable file is skipped and logged once; >1% unreadable stops the run
    dict(type='LoadImageFromFileOrSkip'),
    dict(
        type='TorchRandomResizedCrop',
        scale=192,
        crop_ratio_range=(0.67, 1.0),
        aspect_ratio_range=(3. / 4., 4. / 3.),
        backend='torch',
        interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='SimMIMMaskGenerator',
        input_size=192,
        mask_patch_size=32,
        model_patch_size=4,
        mask_ratio=0.6),
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
