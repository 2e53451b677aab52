"""Fine-tune SimMIM ViT-B/16 (800-epoch pretraining) on ImageNet-1K at 224 px: layer decay
0.65, drop path 0.1, top-1 83.8.

As the official fine-tuning: the shared relative position bias of pretraining is copied into
every block (per-block tables), features are the mean of the patch tokens followed by a
LayerNorm (fc_norm, mmpretrain's `ln2`); the pretraining final norm (`ln1`) is not used.
"""
_base_ = 'swin-base-w7_simmim-100e-pre_16xb128-coslr-100e_in1k-224px.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='BEiTViT',
        arch='base',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        layer_scale_init_value=0.1,
        use_abs_pos_emb=False,
        use_rel_pos_bias=True,
        use_shared_rel_pos_bias=False,
        out_type='avg_featmap',
        final_norm=False,
        init_cfg=dict(
            type='Pretrained',
            _scope_='simmim_mm',
            checkpoint=None,
            prefix='backbone.',
            ignore_keys=[r'^ln1\.'],
            allow_missing=[r'^ln2\.'])),
    neck=None,
    head=dict(in_channels=768))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.65))
