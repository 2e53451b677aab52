"""Fine-tune a ViT-S/16 distilled by TinyMIM relations from the SimMIM ViT-B
(tinymim_vit-base-p16-to-vit-small-p16_32xb128-amp-300e_in1k-224px.py) on ImageNet-1K at 224 px:
the SimMIM ViT fine-tuning (vit-base-p16_simmim-800e-pre_...) with a ViT-S and TinyMIM's
layer decay 0.6.

    python tools/train.py configs/finetune/vit-small-p16_tinymim-300e-pre_16xb128-coslr-100e_in1k-224px.py \\
        --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/tinymim_vit-s/epoch_300.pth

The checkpoint's ``backbone.*`` load as a SimMIM checkpoint's do. As in TinyMIM, the student's
last block, distilled with 12 heads, is fine-tuned with the model's 6 (its weights do not
depend on the head count).
"""
_base_ = 'vit-base-p16_simmim-800e-pre_16xb128-coslr-100e_in1k-224px.py'

model = dict(backbone=dict(arch='deit-small'), head=dict(in_channels=384))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.6))
