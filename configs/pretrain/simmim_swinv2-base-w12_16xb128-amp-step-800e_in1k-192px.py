"""SimMIM SwinV2-B/w12, 192 px, 800 epochs, with normalized targets (each target pixel
standardized over its 47x47 neighbourhood), as in the SwinV2 / data-scaling SimMIM.

At 192 px the last stage is 6x6: its window is 6 and unshifted, as the official SwinV2 shrinks
windows larger than the map.

Weight decay as the official SwinV2 SimMIM (microsoft/Swin-Transformer's
get_pretrain_param_groups on the SimMIM wrapper): exempt are the 1-D parameters (norms, biases,
q/v biases, the cpb_mlp's first bias) and mask_token / absolute_pos_embed, the Swin base's keys.
SwinV2 also names the keywords cpb_mlp, logit_scale and relative_position_bias_table, but the
wrapper prefixes them with 'encoder.' and they never match a block's parameter: the official
runs DECAY the cpb_mlp weight matrices and logit_scale (heads x 1 x 1), and so does this config
(tests/test_engine/test_official_param_groups.py). The base schedule shows how to exempt them.
"""
_base_ = 'simmim_swin-base-w6_16xb128-amp-step-800e_in1k-192px.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='SimMIMSwinTransformerV2',
        arch='base',
        img_size=192,
        window_size=[12, 12, 12, 6],
        drop_path_rate=0.1),
    head=dict(norm_target_window=47))
