"""COCO Mask R-CNN, 1024 px large-scale jitter, 100 epochs, with the ViT-T/16 distilled by
TinyMIM relations from the SimMIM ViT-B
(tinymim_vit-base-p16-to-vit-tiny-p16_32xb128-amp-300e_in1k-224px.py): the SimMIM ViT-B
detection config (configs/downstream/mmdet/) with a ViT-T, loaded like a
SimMIM checkpoint. The student's last block, distilled with 12 heads, runs with the model's
own heads. TinyMIM reports no detection result.

    python tools/train.py configs/downstream/mmdet/mask-rcnn_vit-tiny-p16-tinymim-300e-pre_fpn_16xb4-lsj-100e_coco.py \\
        --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/tinymim_vit-t/epoch_300.pth
"""
_base_ = 'mask-rcnn_vit-base-p16-simmim-800e-pre_fpn_16xb4-lsj-100e_coco.py'

model = dict(
    backbone=dict(arch='deit-tiny'),
    neck=[
        dict(
            type='mmseg.Feature2Pyramid',
            embed_dim=192,
            rescales=[4, 2, 1, 0.5],
            norm_cfg={{_base_.norm_cfg}}),
        dict(
            type='FPN',
            in_channels=[192, 192, 192, 192],
            out_channels=256,
            num_outs=5,
            norm_cfg={{_base_.norm_cfg}}),
    ])
