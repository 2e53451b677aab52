# SimMIM pretraining data for ELPV (solar cells, 300 x 300 8-bit grayscale): the training
# cells of the prepared split (never its test cells), as 1-channel 96 px crops. CustomDataset
# reads meta/train.txt's "<path> <class>" lines only with with_label=True (without, a whole
# line is taken for the path): the labels are read with the paths, and SimMIM never uses them.
# Layout (what the ELPV split tool writes, `data/elpv` by default):
#   images/cellNNNN.png, meta/train.txt ("<path> <class>" per line), meta/classes.txt
# Your own prepared split: --cfg-options train_dataloader.dataset.data_root=DIR
dataset_type = 'CustomDataset'
data_root = 'data/elpv'

# ELPV's gray level on the 0-255 scale: mean and std of all 2,624 cells' pixels (numpy over
# the elpv-dataset package's images; 152.3 / 41.3 over a stratified 75% of them). One value
# per channel: the model sees one channel (to_rgb off).
data_preprocessor = dict(type='SelfSupDataPreprocessor', mean=[152.17], std=[40.96], to_rgb=False)

train_pipeline = [
    # grayscale: one channel, not 3 copies of it (the decoder then predicts one)
    dict(type='LoadImageFromFileOrSkip', color_type='grayscale'),
    dict(
        type='RandomResizedCrop',
        scale=96,
        crop_ratio_range=(0.67, 1.0),
        aspect_ratio_range=(3. / 4., 4. / 3.),
        backend='pillow',
        interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='SimMIMMaskGenerator',
        input_size=96,
        mask_patch_size=16,
        model_patch_size=4,
        mask_ratio=0.6),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix='images',
        pipeline=train_pipeline))
