"""Fine-tune SimMIM Swin-B from the 800-epoch pretraining, 224 px, window 7: layer decay 0.8,
top-1 84.0. Otherwise swin-b_w7_224px_in1k.py."""
_base_ = 'swin-base-w7_simmim-100e-pre_16xb128-coslr-100e_in1k-224px.py'

optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.8))
