"""ADE20K UperNet with a SimMIM-pretrained ViT-B/16 backbone, 512x512 crops, 160k iterations
(mmsegmentation 1.2.2).

    python tools/train.py configs/downstream/mmseg/upernet_vit-base-p16-simmim-800e-pre_8xb2-160k_ade20k-512x512.py \\
        --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/simmim_vit-b/epoch_800.pth

The ADE20K recipe that MAE's and TinyMIM's ViT numbers use, as mmseg's MAE config has it: the
outputs of blocks 4, 6, 8 and 12 rescaled x4, x2, x1, x0.5 into a pyramid (Feature2Pyramid),
UperNet, AdamW lr 1e-4, weight decay 0.05, layer decay 0.65, drop path 0.1, 1500 warm-up
iterations then poly, total batch 16, sliding-window test. The backbone is the one SimMIM
pretrains and fine-tunes (configs/finetune/vit-base-p16_simmim-800e-pre_...): relative
position bias, its shared pretraining table copied into every block and resized from 14 x 14
to 32 x 32 patches on loading, layer scale; the pretraining's final norm is not used.
"""
_base_ = 'mmseg::mae/mae-base_upernet_8xb2-amp-160k_ade20k-512x512.py'
# simmim_mm first: it imports mmpretrain.models itself, and under transformers 5 only it can
custom_imports = dict(imports=['simmim_mm'], allow_failed_imports=False)

model = dict(
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='mmpretrain.BEiTViT',
        arch='base',
        img_size=512,
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
            ignore_keys=[r'^ln1\.'])))

# layer decay by the official SimMIM layer ids (mmpretrain's get_layer_depth), no decay on
# 1-D parameters (norms, biases, layer scales), as MAE's segmentation code
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    constructor='BackboneLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.65, flat_decay_mult=0.0))
