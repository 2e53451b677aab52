"""TinyMIM relation distillation of the SimMIM ViT-B/16 into a ViT-S/16 (384 wide, 6 heads),
224 px, 300 epochs, total batch 4096 (32 GPUs x 128), the TinyMIM recipe.

The teacher's last block's Q-K and V-V relations (per head, all 197 tokens, cls included)
teach the student's last block, which has 12 heads like the teacher's for that purpose
(TinyMIM's ``last_heads=12``); the student's forward stops at that block's q / k / v.

    python tools/train.py configs/distill/tinymim_vit-base-p16-to-vit-small-p16_32xb128-amp-300e_in1k-224px.py \\
        --cfg-options model.teacher_checkpoint=work_dirs/simmim_vit-b/epoch_800.pth

``teacher_checkpoint``: a simmim_mm checkpoint (``state_dict`` with ``backbone.*``), a file
converted by tools/convert_checkpoint.py, a URL, or a model-zoo name (tools/model_zoo.py
list; downloaded and converted into the cache). A raw official / Hugging Face / mmpretrain
file also works with ``model.teacher_source='official'`` (or 'hf', 'mmpretrain').
Fine-tune the student with vit-small-p16_tinymim-300e-pre_16xb128-coslr-100e_in1k-224px.py.
"""
_base_ = [
    '../_base_/datasets/imagenet_distill_224.py',
    '../_base_/schedules/tinymim-distill_adamw-coslr-300e.py',
    '../_base_/default_runtime.py',
]

# model zoo: the paper's ViT-B, 800 epochs
teacher_checkpoint = 'simmim_vit-base-p16_16xb128-amp-step-800e_in1k-224px'

model = dict(
    type='MIMDistiller',
    target='relations',
    teacher_block=-1,
    teacher=dict(type='SimMIMViT', arch='base', img_size=224, patch_size=16),
    teacher_checkpoint=teacher_checkpoint,
    backbone=dict(
        type='SimMIMViT',
        arch='deit-small',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        # the distilled block: as many heads as the teacher's (head dim 32)
        layer_cfgs=[dict()] * 11 + [dict(num_heads=12)]),
    distill_loss=dict(type='RelationDistillLoss'))

train_dataloader = dict(batch_size=128)
