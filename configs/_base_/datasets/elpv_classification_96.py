# ELPV's 4 classes (defect probability 0, 1/3, 2/3, 1: p0, p33, p67, p100) from the prepared
# split: train on meta/train.txt, test on meta/test.txt, 1-channel 96 px. No validation set:
# the split has none, and picking a checkpoint on the test cells would overstate accuracy;
# the last epoch is tested.
# Your own prepared split: --cfg-options train_dataloader.dataset.data_root=DIR
#   test_dataloader.dataset.data_root=DIR
dataset_type = 'CustomDataset'
data_root = 'data/elpv'
# meta/classes.txt's names, in its order (a `classes` file path is read from the working
# directory, not from data_root); they name the per-class recalls
classes = ('p0', 'p33', 'p67', 'p100')

# ELPV's gray level, as for pretraining (elpv_simmim_96.py)
data_preprocessor = dict(num_classes=4, mean=[152.17], std=[40.96], to_rgb=False)

train_pipeline = [
    dict(type='LoadImageFromFileOrSkip', color_type='grayscale'),
    # strong crops for 1,968 cells (a defect may be cropped out: label smoothing softens it)
    dict(
        type='RandomResizedCrop',
        scale=96,
        crop_ratio_range=(0.35, 1.0),
        backend='pillow',
        interpolation='bilinear'),
    # a cell's defects have no preferred side
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='PackInputs'),
]
test_pipeline = [
    # a test set is never silently shortened: an unreadable file stops the run, naming it
    dict(type='LoadImageFromFileOrSkip', color_type='grayscale', on_error='raise'),
    dict(type='ResizeEdge', scale=96, edge='short', backend='pillow', interpolation='bilinear'),
    dict(type='CenterCrop', crop_size=96),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix='images',
        classes=classes,
        pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=64,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='meta/test.txt',
        data_prefix='images',
        classes=classes,
        pipeline=test_pipeline))
# 4-class top-1 (top-5 means nothing for 4 classes), functional (p0, p33) vs defective (p67,
# p100) as Deitsch et al. 2019 count it, and each class's recall: named scalars in the log
test_evaluator = [
    dict(type='Accuracy', topk=(1, )),
    dict(type='GroupedAccuracy', groups=dict(functional=[0, 1], defective=[2, 3])),
    dict(type='PerClassRecall'),
]
