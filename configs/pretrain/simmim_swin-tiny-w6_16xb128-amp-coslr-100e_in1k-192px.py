"""SimMIM Swin-T/w6 (96 wide, depths 2-2-6-2), otherwise the Swin-B
100e recipe (simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py)."""
_base_ = 'simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py'

model = dict(backbone=dict(arch='tiny'))
