# The SimMIM Swin-B backbone for detection and segmentation, as variables (not `model`, which
# mmdet's / mmseg's bases define): downstream configs substitute them with {{_base_.name}}.
# mmpretrain's SwinTransformer is the very module SimMIM pretrains, so keys need no renaming;
# the encoder loads strictly (6 -> 7 window tables resized), only the FPN / UperNet output
# norms norm0-2 start from scratch.
simmim_swin_b_backbone = dict(
    _delete_=True,
    type='mmpretrain.SwinTransformer',
    arch='base',
    img_size=224,
    drop_path_rate=0.2,
    out_indices=(0, 1, 2, 3),
    pad_small_map=True,  # detection / segmentation inputs are not multiples of the window
    stage_cfgs=dict(block_cfgs=dict(window_size=7)),
    init_cfg=dict(
        type='Pretrained',
        _scope_='simmim_mm',
        checkpoint=None,
        prefix='backbone.',
        allow_missing=[r'^norm[0-2]\.']))
simmim_swin_b_channels = [128, 256, 512, 1024]

# layer-wise lr decay on the backbone (mmdet / mmseg have none for Swin); necks and heads at
# the full lr. 0.9 is our choice: SimMIM released no detection or segmentation recipe.
simmim_layer_decay = dict(
    constructor='BackboneLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(layer_decay_rate=0.9, flat_decay_mult=0.0))
