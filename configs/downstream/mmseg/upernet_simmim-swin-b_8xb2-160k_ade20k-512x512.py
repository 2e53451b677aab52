"""ADE20K UperNet with a SimMIM-pretrained Swin-B backbone, 512x512 crops, 160k iterations
(mmsegmentation 1.2.2).

    python tools/train.py configs/downstream/mmseg/upernet_simmim-swin-b_8xb2-160k_ade20k-512x512.py \\
        --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/simmim_swin-b/epoch_100.pth

mmseg's Swin UperNet recipe (AdamW 6e-5, wd 0.01, poly, drop path 0.3) with mmpretrain's
SwinTransformer, the module SimMIM pretrains, loaded strictly; layer-wise lr decay 0.9 on the
backbone (our choice: mmseg has none for Swin, SimMIM released no segmentation recipe).
"""
_base_ = 'mmseg::swin/swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py'
custom_imports = dict(imports=['mmpretrain.models', 'simmim_mm'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.SwinTransformer',
        arch='base',
        img_size=224,
        drop_path_rate=0.3,
        out_indices=(0, 1, 2, 3),
        pad_small_map=True,
        stage_cfgs=dict(block_cfgs=dict(window_size=7)),
        init_cfg=dict(type='Pretrained', _scope_='simmim_mm', checkpoint=None,
                      prefix='backbone.', allow_missing=[r'^norm[0-2]\.'])),
    decode_head=dict(in_channels=[128, 256, 512, 1024]),
    auxiliary_head=dict(in_channels=512))

optim_wrapper = dict(
    constructor='BackboneLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.9, flat_decay_mult=0.0))
