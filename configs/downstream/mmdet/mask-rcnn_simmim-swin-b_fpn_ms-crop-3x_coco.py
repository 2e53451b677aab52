"""COCO Mask R-CNN + FPN, SimMIM Swin-B, 3x schedule with multi-scale training and random
crop: mmdet's Swin 3x recipe with the SimMIM backbone and layer decay of the 1x config."""
_base_ = 'mmdet::swin/mask-rcnn_swin-t-p4-w7_fpn_ms-crop-3x_coco.py'
custom_imports = dict(imports=['mmpretrain.models', 'simmim_mm'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.SwinTransformer',
        arch='base',
        img_size=224,
        drop_path_rate=0.2,
        out_indices=(0, 1, 2, 3),
        pad_small_map=True,
        stage_cfgs=dict(block_cfgs=dict(window_size=7)),
        init_cfg=dict(type='Pretrained', _scope_='simmim_mm', checkpoint=None,
                      prefix='backbone.', allow_missing=[r'^norm[0-2]\.'])),
    neck=dict(in_channels=[128, 256, 512, 1024]))

optim_wrapper = dict(
    constructor='BackboneLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.9, flat_decay_mult=0.0))
