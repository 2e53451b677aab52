"""The demo with validation: trains on 12 of the 15 bundled photos and every 200 iterations
computes the reconstruction loss of the other 3 under fixed masks. The loss is logged as
``reconstruction/error`` and picks the best checkpoint (best_reconstruction_error_iter_*.pth):
validation loss tracks fine-tuning accuracy (the SimMIM data-scaling study).

    python tools/train.py configs/demo/simmim_swin-demo_1xb8-val-800iter_photos-96px.py
    python tools/test.py configs/demo/simmim_swin-demo_1xb8-val-800iter_photos-96px.py CHECKPOINT

For your own data, point val_dataloader.dataset at a folder of held-out images.
"""
_base_ = 'simmim_swin-demo_1xb8-800iter_photos-96px.py'

train_dataloader = dict(dataset=dict(indices=12))  # the first 12 photos

# Deterministic view and masks: the same pixels are scored at every validation, in every run.
# The mask geometry is the demo's training pipeline's.
val_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=96, edge='short', backend='pillow', interpolation='bilinear'),
    dict(type='CenterCrop', crop_size=96),
    dict(
        type='SeededSimMIMMaskGenerator',
        seed=0,
        input_size=96,
        mask_patch_size=16,
        model_patch_size=4,
        mask_ratio=0.6),
    dict(type='PackInputs'),
]
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='BundledPhotos', indices=[12, 13, 14], pipeline=val_pipeline))
val_evaluator = dict(type='ReconstructionLossMetric')
val_cfg = dict(type='ValLoop')
# tools/test.py (and `mim test`) score a checkpoint on the same held-out photos
test_dataloader = val_dataloader
test_evaluator = val_evaluator
test_cfg = dict(type='TestLoop')
train_cfg = dict(val_interval=200)

default_hooks = dict(
    logger=dict(log_metric_by_epoch=False),  # val metrics at their iteration, not epoch 0
    checkpoint=dict(save_best='reconstruction/error', rule='less'))
