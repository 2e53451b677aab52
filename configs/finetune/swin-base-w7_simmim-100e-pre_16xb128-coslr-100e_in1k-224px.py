"""Fine-tune SimMIM Swin-B (100-epoch pretraining at 192 px, window 6) on ImageNet-1K at 224 px,
window 7: the official recipe, top-1 83.5.

    python tools/train.py configs/finetune/swin-base-w7_simmim-100e-pre_16xb128-coslr-100e_in1k-224px.py \\
        --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/simmim_swin-b/epoch_100.pth

The checkpoint's encoder is loaded strictly (mask token and decoder dropped, 6 -> 7 window
bias tables resized); any weight that would stay untrained or unused is an error.
Augmentation is mmpretrain's Swin recipe, the official one: RandAugment m9-mstd0.5 increasing,
random erasing 0.25, Mixup 0.8, CutMix 1.0, label smoothing 0.1; eval resize 256 + crop 224.
"""
_base_ = [
    'mmpretrain::_base_/models/swin_transformer/base_224.py',
    'mmpretrain::_base_/datasets/imagenet_bs64_swin_224.py',
    '../_base_/schedules/simmim-finetune_adamw-coslr-100e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        img_size=224,
        drop_path_rate=0.1,
        stage_cfgs=dict(block_cfgs=dict(window_size=7)),
        init_cfg=dict(type='Pretrained', _scope_='simmim_mm', checkpoint=None, prefix='backbone.')))

# 16 GPUs x 128 = the reference total batch of 2048
train_dataloader = dict(batch_size=128)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3, save_best='auto'))
randomness = dict(seed=0)
