"""SimMIM ViT-S/16 (384 wide, 12 layers, 6 heads), otherwise simmim_vit-b.py."""
_base_ = 'simmim_vit-b.py'

model = dict(backbone=dict(arch='deit-small'))
