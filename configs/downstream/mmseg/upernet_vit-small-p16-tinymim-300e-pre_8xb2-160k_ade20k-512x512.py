"""ADE20K UperNet, 512x512, 160k iterations, with the ViT-S/16 distilled by TinyMIM relations
from the SimMIM ViT-B (tinymim_vit-base-p16-to-vit-small-p16_32xb128-amp-300e_in1k-224px.py): the
SimMIM ViT-B segmentation config (configs/downstream/mmseg/) with a ViT-S, loaded like a
SimMIM checkpoint (TinyMIM reports 48.4 mIoU for its ViT-S, with an MAE teacher). The
student's last block, distilled with 12 heads, runs with the model's own heads.

    python tools/train.py configs/downstream/mmseg/upernet_vit-small-p16-tinymim-300e-pre_8xb2-160k_ade20k-512x512.py \\
        --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/tinymim_vit-s/epoch_300.pth
"""
_base_ = 'upernet_vit-base-p16-simmim-800e-pre_8xb2-160k_ade20k-512x512.py'

model = dict(
    backbone=dict(arch='deit-small'),
    neck=dict(embed_dim=384),
    decode_head=dict(in_channels=[384, 384, 384, 384]),
    auxiliary_head=dict(in_channels=384))
