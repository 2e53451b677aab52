"""COCO Mask R-CNN with a SimMIM-pretrained ViT-B/16 backbone, 1024 px large-scale jitter,
100 epochs (mmdet 3.3.0).

    python tools/train.py configs/downstream/mmdet/mask-rcnn_vit-base-p16-simmim-800e-pre_fpn_16xb4-lsj-100e_coco.py \\
        --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/simmim_vit-b/epoch_800.pth

ViTDet's recipe for a plain ViT (Li et al., 2022; mmdet's projects/ViTDet, the MAE ViT-B
config) where mmdet's package allows it: 1024 x 1024 inputs with scale jitter 0.1-2.0, 100
epochs at a total batch of 64, AdamW lr 1e-4 with weight decay 0.1, layer decay 0.7, drop path
0.1, LayerNorm in the pyramid and the heads (4 conv + 1 fc box head, 2-conv RPN). Two
differences, both because ViTDet's modules live outside mmdet's package:
- the pyramid is built from four blocks (4, 6, 8 and 12, rescaled x4, x2, x1, x0.5 by mmseg's
  Feature2Pyramid, as in the ViT segmentation config) then an FPN, in the manner of the ViT
  detection benchmark that preceded ViTDet (Li et al., 2021), instead of ViTDet's pyramid
  from the last block alone;
- every block attends globally, which takes more memory; ViTDet uses 14 x 14 windows in 8 of
  the 12 blocks.
The backbone is the one SimMIM pretrains and fine-tunes: relative position bias (the shared
pretraining table copied into every block and resized from 14 x 14 to 64 x 64 patches), layer
scale; the pretraining's final norm is not used. Inputs are padded to 1024 x 1024 in training
and test, since the position bias is built for that size. SimMIM released no detection recipe.
"""
_base_ = [
    'mmdet::_base_/models/mask-rcnn_r50_fpn.py',
    'mmdet::common/lsj-100e_coco-instance.py',
]
# simmim_mm first: it imports mmpretrain.models itself, and under transformers 5 only it can
custom_imports = dict(imports=['simmim_mm', 'mmseg.models'], allow_failed_imports=False)

image_size = (1024, 1024)
norm_cfg = dict(type='mmpretrain.LN2d', requires_grad=True)
model = dict(
    data_preprocessor=dict(
        pad_size_divisor=32,
        batch_augments=[dict(type='BatchFixedSizePad', size=image_size, pad_mask=True)]),
    backbone=dict(
        _delete_=True,
        type='mmpretrain.BEiTViT',
        arch='base',
        img_size=image_size[0],
        patch_size=16,
        drop_path_rate=0.1,
        layer_scale_init_value=0.1,
        use_abs_pos_emb=False,
        use_rel_pos_bias=True,
        use_shared_rel_pos_bias=False,
        out_indices=(3, 5, 7, 11),
        out_type='featmap',
        final_norm=False,
        init_cfg=dict(
            type='Pretrained',
            _scope_='simmim_mm',
            checkpoint=None,
            prefix='backbone.',
            ignore_keys=[r'^ln1\.'])),
    neck=[
        dict(
            type='mmseg.Feature2Pyramid', embed_dim=768, rescales=[4, 2, 1, 0.5],
            norm_cfg=norm_cfg),
        dict(
            type='FPN',
            in_channels=[768, 768, 768, 768],
            out_channels=256,
            num_outs=5,
            norm_cfg=norm_cfg),
    ],
    rpn_head=dict(num_convs=2),
    roi_head=dict(
        bbox_head=dict(type='Shared4Conv1FCBBoxHead', conv_out_channels=256, norm_cfg=norm_cfg),
        mask_head=dict(norm_cfg=norm_cfg)))

# the test images too: resized to fit 1024 and padded to it
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='Pad', size=image_size, pad_val=dict(img=(114, 114, 114))),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PackDetInputs',
        meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(batch_size=4, num_workers=4)
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

# layer decay by the official SimMIM layer ids (mmpretrain's get_layer_depth), no decay on
# 1-D parameters (norms, biases, layer scales)
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.1),
    constructor='BackboneLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.7, flat_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=250),
    dict(type='MultiStepLR', begin=0, end=25, by_epoch=True, milestones=[22, 24], gamma=0.1),
]
