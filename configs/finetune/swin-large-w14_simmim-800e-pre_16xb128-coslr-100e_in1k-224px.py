"""Fine-tune SimMIM Swin-L (800-epoch pretraining at 192 px, window 12) at 224 px, window 14:
layer decay 0.7, drop path 0.2, top-1 85.4. Otherwise swin-b_w7_224px_in1k.py."""
_base_ = 'swin-base-w7_simmim-100e-pre_16xb128-coslr-100e_in1k-224px.py'

model = dict(
    backbone=dict(arch='large', drop_path_rate=0.2,
                  stage_cfgs=dict(block_cfgs=dict(window_size=14))),
    head=dict(in_channels=1536))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.7))
