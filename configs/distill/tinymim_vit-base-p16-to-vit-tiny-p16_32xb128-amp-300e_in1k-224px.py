"""TinyMIM relation distillation of the SimMIM ViT-B/16 into a ViT-T/16 (192 wide, 3 heads,
DeiT-Tiny's shape), 224 px, 300 epochs, total batch 4096: as the ViT-S config, the student's
last block with the teacher's 12 heads (head dim 16).

TinyMIM's own ViT-T distillation model has 6 heads in its other blocks and is fine-tuned with
3; here the student keeps 3, which its fine-tuning (and the relative position table it
shares across blocks) uses too.
Fine-tune the student with vit-tiny-p16_tinymim-300e-pre_16xb128-coslr-100e_in1k-224px.py.
"""
_base_ = 'tinymim_vit-base-p16-to-vit-small-p16_32xb128-amp-300e_in1k-224px.py'

model = dict(backbone=dict(arch='deit-tiny'))
