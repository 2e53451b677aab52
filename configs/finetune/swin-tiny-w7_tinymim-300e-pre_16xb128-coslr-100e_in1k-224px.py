"""Fine-tune a Swin-T distilled by TinyMIM relations from the SimMIM Swin-B
(tinymim_swin-base-w6-to-swin-tiny-w6_32xb128-amp-300e_in1k-192px.py) at 224 px, window 7.
Its last block keeps the 32 heads it was distilled with: Swin blocks have a relative position
table per block, with a column per head, so the head count is part of the weights."""
_base_ = 'swin-tiny-w7_fd-300e-pre_16xb128-coslr-100e_in1k-224px.py'

model = dict(
    backbone=dict(stage_cfgs=[dict(block_cfgs=dict(window_size=7))] * 3 +
                  [dict(block_cfgs=[dict(
                      window_size=7), dict(window_size=7, num_heads=32)])]))
