"""SimMIM ViT-L/16 (1024 wide, 24 layers, 16 heads), otherwise simmim_vit-b.py."""
_base_ = 'simmim_vit-b.py'

model = dict(backbone=dict(arch='large'))
