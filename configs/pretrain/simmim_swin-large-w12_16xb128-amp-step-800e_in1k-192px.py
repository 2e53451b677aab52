"""SimMIM Swin-L/w12, 192 px, 800 epochs (fine-tuned top-1 85.4 at 224 px).

At 192 px the last stage is 6x6, smaller than the window: the official Swin shrinks that
stage's window to 6 and does not shift it, which a per-stage window of 6 reproduces exactly
(same 11x11 relative position tables as the official checkpoint). mmpretrain's config pads the
map to 12 instead (pad_small_map=True), which computes something else.
"""
_base_ = 'simmim_swin-base-w6_16xb128-amp-step-800e_in1k-192px.py'

model = dict(
    backbone=dict(
        arch='large',
        stage_cfgs=[
            dict(block_cfgs=dict(window_size=12)),
            dict(block_cfgs=dict(window_size=12)),
            dict(block_cfgs=dict(window_size=12)),
            dict(block_cfgs=dict(window_size=6)),
        ]))
