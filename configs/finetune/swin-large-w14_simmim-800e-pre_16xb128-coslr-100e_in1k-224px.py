"""Fine-tune SimMIM Swin-L (800-epoch pretraining at 192 px, window 12) at 224 px, window 14:
layer decay 0.7, drop path 0.2, top-1 85.4. Otherwise swin-b_w7_224px_in1k.py.

At 224 px the stage maps are 56, 28, 14 and 7: the last one is smaller than the window. The
official Swin shrinks a window to its map and drops the shift there (`if min(input_resolution)
<= window_size: shift_size = 0; window_size = min(input_resolution)`), so it runs windows 14,
14, 14, 7; the per-stage windows below are exactly that (mmpretrain drops the shift where the
window equals the map, and would assert on window 14 over a 7x7 map). The pretrained tables,
windows 12, 12, 12, 6, are resized per layer to 14 (23^2 -> 27^2 rows) and, in the last stage,
6 -> 7 (11^2 -> 13^2), as the official fine-tuning resizes each layer's table to its window.
"""
_base_ = 'swin-base-w7_simmim-100e-pre_16xb128-coslr-100e_in1k-224px.py'

model = dict(
    backbone=dict(
        arch='large',
        drop_path_rate=0.2,
        stage_cfgs=[
            dict(block_cfgs=dict(window_size=14)),
            dict(block_cfgs=dict(window_size=14)),
            dict(block_cfgs=dict(window_size=14)),
            dict(block_cfgs=dict(window_size=7)),
        ]),
    head=dict(in_channels=1536))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.7))
