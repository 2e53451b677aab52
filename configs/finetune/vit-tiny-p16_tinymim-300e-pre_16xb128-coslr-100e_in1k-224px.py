"""Fine-tune a ViT-T/16 distilled by TinyMIM relations from the SimMIM ViT-B
(tinymim_vit-base-p16-to-vit-tiny-p16_32xb128-amp-300e_in1k-224px.py): as the ViT-S one,
192 wide, 3 heads (the last block, distilled with 12, fine-tuned with 3 as in TinyMIM)."""
_base_ = 'vit-small-p16_tinymim-300e-pre_16xb128-coslr-100e_in1k-224px.py'

model = dict(backbone=dict(arch='deit-tiny'), head=dict(in_channels=192))
