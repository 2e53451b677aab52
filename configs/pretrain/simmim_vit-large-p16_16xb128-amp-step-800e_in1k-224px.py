"""SimMIM ViT-L/16 (1024 wide, 24 layers, 16 heads), otherwise simmim_vit-b.py."""
_base_ = 'simmim_vit-base-p16_16xb128-amp-step-800e_in1k-224px.py'

model = dict(backbone=dict(arch='large'))
