"""COCO Mask R-CNN + FPN, 1x, with the Swin-T distilled by FD from the SimMIM Swin-B
(fd_swin-base-w6-to-swin-tiny-w6_16xb128-amp-300e_in1k-192px.py): the SimMIM Swin-B detection
config (configs/downstream/mmdet/) with a Swin-T, loaded like a SimMIM checkpoint
(`backbone.*`, window-6 tables resized to 7).

    python tools/train.py configs/downstream/mmdet/mask-rcnn_swin-tiny-w7-fd-300e-pre_fpn_8xb2-1x_coco.py \\
        --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/fd_swin-t/epoch_300.pth
"""
_base_ = 'mask-rcnn_swin-base-w7-simmim-100e-pre_fpn_8xb2-1x_coco.py'

model = dict(backbone=dict(arch='tiny'), neck=dict(in_channels=[96, 192, 384, 768]))
