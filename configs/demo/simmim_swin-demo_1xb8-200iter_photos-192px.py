"""A few-minute SimMIM pretraining on CPU: a small Swin on the 15 photos that ship inside
scikit-image, so it runs on a fresh machine with no data and no GPU.

    make demo    # or: python tools/train.py configs/demo/simmim_swin-demo_1xb8-200iter_photos-192px.py

Same algorithm, pipeline, optimizer and schedule shape as configs/pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py; smaller
model, batch and run, and a fixed lr (1e-3, no batch scaling) so 15 photos learn something
in 200 iterations.
"""
_base_ = '../pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py'

model = dict(
    backbone=dict(
        arch=dict(_delete_=True, embed_dims=48, depths=[2, 2, 2, 2],
                  num_heads=[3, 6, 12, 24])))

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(_delete_=True, type='BundledPhotos',
                 pipeline={{_base_.train_pipeline}}))

optim_wrapper = dict(optimizer=dict(lr=1e-3))
auto_scale_lr = dict(enable=False)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6 / 2e-4, by_epoch=False, begin=0, end=20),
    dict(type='FullPhaseCosineAnnealingLR', T_max=200, eta_min_ratio=1e-5 / 2e-4,
         by_epoch=False, begin=20, end=200),
]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=200)

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=100, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
custom_hooks = [
    dict(type='ReconstructionHook', interval=50, num_images=4),
    dict(type='InpaintingBaselineHook'),
]
