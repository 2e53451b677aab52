"""Fine-tune the ELPV SimMIM encoder for ELPV's 4 classes (defect probability 0, 1/3, 2/3, 1),
tested on the held-out 656 cells: 4-class top-1, functional-vs-defective accuracy and each
class's recall.

    python tools/train.py configs/elpv/swin-demo_simmim-40e-pre_1xb32-coslr-30e_elpv-96px.py \\
        --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/simmim_swin-demo_1xb8-coslr-40e_elpv-96px/epoch_40.pth
    python tools/test.py configs/elpv/swin-demo_simmim-40e-pre_1xb32-coslr-30e_elpv-96px.py \\
        work_dirs/swin-demo_simmim-40e-pre_1xb32-coslr-30e_elpv-96px/epoch_30.pth

The encoder is the pretraining's (configs/elpv/simmim_swin-demo_1xb8-coslr-40e_elpv-96px.py):
same arch, windows and 1 input channel, loaded strictly. The same run from random weights,
the baseline: configs/elpv/swin-demo_1xb32-coslr-30e_elpv-96px.py (this config, no init).

The SimMIM ImageNet fine-tuning recipe (AdamW, wd 0.05, layer-wise lr decay 0.9, clip 5,
warmup then cosine, label smoothing 0.1; configs/_base_/schedules/
simmim-finetune_adamw-coslr-100e.py), cut to a small dataset and a CPU:
- 30 epochs of 62 steps at batch 32, 3 warmup epochs (10%); lr 5e-4 per 32 images
  (auto_scale_lr: batch 32 is the reference, other total batches rescale it);
- drop path 0.1 (the Swin-B recipe's, for a 2-2-2-2 Swin);
- no Mixup / CutMix: they blend cells of different classes, and with 106 cells in the
  rarest class a blended label is mostly noise;
- augmentation: random crops of 35-100% and horizontal and vertical flips (a cell has no
  preferred side); no RandAugment or random erasing, which paint over small defects;
- no validation set (the split has none); the last epoch is tested.
"""
_base_ = [
    'mmpretrain::_base_/models/swin_transformer/base_224.py',
    '../_base_/datasets/elpv_classification_96.py',
    '../_base_/schedules/simmim-finetune_adamw-coslr-100e.py',
    '../_base_/default_runtime.py',
]

# the encoder of the ELPV pretraining config: the demo's Swin on one channel at 96 px
swin_demo_arch = dict(embed_dims=48, depths=[2, 2, 2, 2], num_heads=[3, 6, 12, 24])
model = dict(
    backbone=dict(
        arch=dict(_delete_=True, **swin_demo_arch),
        img_size=96,
        in_channels=1,
        drop_path_rate=0.1,
        stage_cfgs=[dict(block_cfgs=dict(window_size=6))] * 3 +
        [dict(block_cfgs=dict(window_size=3))],
        init_cfg=dict(type='Pretrained', _scope_='simmim_mm', checkpoint=None, prefix='backbone.')),
    # the head takes the last stage's width: 8 x embed_dims after three patch mergings
    head=dict(num_classes=4, in_channels=swin_demo_arch['embed_dims'] * 8),
    train_cfg=None)  # no Mixup / CutMix

optim_wrapper = dict(optimizer=dict(lr=5e-4))
auto_scale_lr = dict(base_batch_size=32)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=2.5e-7 / 1.25e-3,
        by_epoch=True,
        begin=0,
        end=3,
        convert_to_iter_based=True),
    dict(
        type='FullPhaseCosineAnnealingLR',
        T_max=30,
        eta_min_ratio=2.5e-7 / 1.25e-3,
        by_epoch=True,
        begin=3,
        end=30,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=30)
val_cfg = None

default_hooks = dict(logger=dict(interval=20), checkpoint=dict(interval=10, max_keep_ckpts=1))
randomness = dict(seed=0)
