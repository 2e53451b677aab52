"""COCO Mask R-CNN + FPN, SimMIM Swin-B, 3x schedule with multi-scale training and random
crop: mmdet's Swin 3x recipe with the SimMIM backbone and layer decay of the 1x config."""
_base_ = [
    'mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_ms-crop-3x_coco.py',
    '../../_base_/models/simmim_swin-base-w7_dense.py',
]
# simmim_mm first: it imports mmpretrain.models itself, and under transformers 5 only it can
custom_imports = dict(imports=['simmim_mm'], allow_failed_imports=False)

model = dict(
    backbone={{_base_.simmim_swin_b_backbone}},
    neck=dict(in_channels={{_base_.simmim_swin_b_channels}}))
optim_wrapper = {{_base_.simmim_layer_decay}}
