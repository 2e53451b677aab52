"""SimMIM Swin-B/w6, 192 px, 800 epochs: base lr 1e-4 and warmup lr 5e-7 per 512, 10 warmup
epochs, then x0.1 at epoch 700 (fine-tuned top-1 84.0 at 224 px)."""
_base_ = 'simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py'

optim_wrapper = dict(optimizer=dict(lr=1e-4 * 2048 / 512))
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=5e-7 / 1e-4,
        by_epoch=True,
        begin=0,
        end=10,
        convert_to_iter_based=True),
    # milestones count from `begin`: begin=0 puts the decay at epoch 700 as the official
    # code does (mmpretrain's begin=10 decays at 710)
    dict(
        type='MultiStepLR',
        milestones=[700],
        gamma=0.1,
        by_epoch=True,
        begin=0,
        end=800,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=800)
