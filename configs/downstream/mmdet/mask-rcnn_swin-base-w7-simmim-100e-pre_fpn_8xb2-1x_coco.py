"""COCO Mask R-CNN + FPN with a SimMIM-pretrained Swin-B backbone, 1x schedule (mmdet 3.3.0).

    python tools/train.py configs/downstream/mmdet/mask-rcnn_swin-base-w7-simmim-100e-pre_fpn_8xb2-1x_coco.py \\
        --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/simmim_swin-b/epoch_100.pth

mmdet's Swin 1x recipe (AdamW 1e-4, wd 0.05, drop path 0.2) with the SimMIM backbone and
layer-wise lr decay 0.9 (configs/_base_/models/simmim_swin-base-w7_dense.py).
"""
_base_ = [
    'mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py',
    '../../_base_/models/simmim_swin-base-w7_dense.py',
]
# simmim_mm first: it imports mmpretrain.models itself, and under transformers 5 only it can
custom_imports = dict(imports=['simmim_mm'], allow_failed_imports=False)

model = dict(
    backbone={{_base_.simmim_swin_b_backbone}},
    neck=dict(in_channels={{_base_.simmim_swin_b_channels}}))
optim_wrapper = {{_base_.simmim_layer_decay}}
