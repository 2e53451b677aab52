"""SimMIM SwinV2-B/w12, 192 px, 800 epochs, with normalized targets (each target pixel
standardized over its 47x47 neighbourhood), as in the SwinV2 / data-scaling SimMIM.

At 192 px the last stage is 6x6: its window is 6 and unshifted, as the official SwinV2 shrinks
windows larger than the map. SwinV2's continuous position bias MLP and attention logit scale
get no weight decay, as in the official code.
"""
_base_ = 'simmim_swin-base-w6_16xb128-amp-step-800e_in1k-192px.py'

model = dict(
    backbone=dict(_delete_=True, type='SimMIMSwinTransformerV2', arch='base', img_size=192,
                  window_size=[12, 12, 12, 6], drop_path_rate=0.1),
    head=dict(norm_target_window=47))

optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={
        'cpb_mlp': dict(decay_mult=0.0),
        'logit_scale': dict(decay_mult=0.0),
    }))
