"""SimMIM ViT-B/16, 224 px, 800 epochs: the paper's ViT-B (fine-tuned top-1 83.8), which
neither mmpretrain nor Hugging Face reproduce.

Encoder (SimMIMViT, on mmpretrain's BEiT-style ViT), 85.67M parameters; with the decoder
86.26M. Parameter names:
    backbone.cls_token, backbone.mask_token            (1, 1, 768)
    backbone.patch_embed.projection.{weight,bias}      16x16 conv, no patch norm
    backbone.rel_pos_bias.relative_position_bias_table (732, 12): 27^2 + 3, shared by blocks
    backbone.layers.{0-11}.{gamma_1,gamma_2}           layer scale, init 0.1
    backbone.layers.{i}.ln1 / ln2                      pre-norms (eps 1e-6)
    backbone.layers.{i}.attn.{q_bias,v_bias,qkv.weight,proj.*}   no k bias
    backbone.layers.{i}.ffn.layers.0.0 / ffn.layers.1  fc1 / fc2
    backbone.ln1                                       final norm
    neck.decoder.0.{weight,bias}                       1x1 conv 768 -> 16^2 * 3
No absolute position embedding; drop path 0.1. Official names map as cls_token,
mask_token, patch_embed.proj, rel_pos_bias.*, blocks.{i}.{gamma_1,gamma_2,norm1,norm2,
attn.*, mlp.fc1, mlp.fc2}, norm.
"""
_base_ = 'simmim_swin-base-w6_16xb128-amp-step-800e_in1k-192px.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='SimMIMViT',
        arch='base',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        layer_scale_init_value=0.1),
    neck=dict(encoder_stride=16))

train_pipeline = [
    # an unreadable file is skipped and logged once; >1% unreadable stops the run
    dict(type='LoadImageFromFileOrSkip'),
    # the official crop and Pillow-faithful bilinear resize (+-1), as the Swin recipes: see
    # configs/_base_/datasets/imagenet_simmim_192.py; backend='pillow' for Pillow's own
    dict(
        type='TorchRandomResizedCrop',
        scale=224,
        crop_ratio_range=(0.67, 1.0),
        aspect_ratio_range=(3. / 4., 4. / 3.),
        backend='torch',
        interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='SimMIMMaskGenerator',
        input_size=224,
        mask_patch_size=32,
        model_patch_size=16,
        mask_ratio=0.6),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

# Weight decay as the official ViT pretraining: its no_weight_decay() is {'pos_embed',
# 'cls_token'} (pos_embed does not exist here) and it has no keywords, so besides the 1-D
# parameters (norms, biases, q/v biases, layer-scale gammas) only cls_token is exempt. The
# official run DECAYS mask_token (VisionTransformerForSimMIM does not list it, unlike the Swin
# one) and the shared rel_pos_bias.relative_position_bias_table: the Swin base's mask_token
# key is dropped here (tests/test_engine/test_official_param_groups.py).
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={
        '_delete_': True,
        'cls_token': dict(decay_mult=0.0),
        'pos_embed': dict(decay_mult=0.0),
    }))
