"""SimMIM Swin-T/w6 (96 wide, depths 2-2-6-2), otherwise simmim_swin-b.py."""
_base_ = 'simmim_swin-b.py'

model = dict(backbone=dict(arch='tiny'))
