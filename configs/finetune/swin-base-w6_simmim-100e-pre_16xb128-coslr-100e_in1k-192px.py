"""Fine-tune SimMIM Swin-B (100-epoch pretraining) at its pretraining size, 192 px, window 6:
top-1 82.8. Eval resize 219 + center crop 192. Otherwise swin-b_w7_224px_in1k.py."""
_base_ = [
    'mmpretrain::_base_/models/swin_transformer/base_224.py',
    'mmpretrain::_base_/datasets/imagenet_bs256_swin_192.py',
    '../_base_/schedules/simmim-finetune_adamw-coslr-100e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        img_size=192,
        drop_path_rate=0.1,
        stage_cfgs=dict(block_cfgs=dict(window_size=6)),
        init_cfg=dict(type='Pretrained', _scope_='simmim_mm', checkpoint=None, prefix='backbone.')))

train_dataloader = dict(batch_size=128)
default_hooks = dict(checkpoint=dict(interval=1, max_keep_ckpts=3, save_best='auto'))
randomness = dict(seed=0)
