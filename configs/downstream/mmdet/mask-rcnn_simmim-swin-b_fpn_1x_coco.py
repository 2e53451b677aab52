"""COCO Mask R-CNN + FPN with a SimMIM-pretrained Swin-B backbone, 1x schedule (mmdet 3.3.0).

    python tools/train.py configs/downstream/mmdet/mask-rcnn_simmim-swin-b_fpn_1x_coco.py \\
        --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/simmim_swin-b/epoch_100.pth

The backbone is mmpretrain's SwinTransformer, the very module SimMIM pretrains, so keys need
no renaming: the encoder loads strictly (6 -> 7 window tables resized; only the new output
norms norm0-2 for FPN start from scratch). Layer-wise lr decay 0.9 on the backbone (mmdet has
none for Swin); neck and heads at full lr. Our choice, not the paper's (SimMIM released no
detection recipe): mmdet's Swin 1x recipe otherwise (AdamW 1e-4, wd 0.05, drop path 0.2).
"""
_base_ = 'mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_1x_coco.py'
custom_imports = dict(imports=['mmpretrain.models', 'simmim_mm'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.SwinTransformer',
        arch='base',
        img_size=224,
        drop_path_rate=0.2,
        out_indices=(0, 1, 2, 3),
        pad_small_map=True,  # detection images are not multiples of the window
        stage_cfgs=dict(block_cfgs=dict(window_size=7)),
        init_cfg=dict(type='Pretrained', _scope_='simmim_mm', checkpoint=None,
                      prefix='backbone.', allow_missing=[r'^norm[0-2]\.'])),
    neck=dict(in_channels=[128, 256, 512, 1024]))

optim_wrapper = dict(
    constructor='BackboneLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.9, flat_decay_mult=0.0))
