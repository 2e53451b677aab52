"""Fine-tune a Swin-T distilled by FD from the SimMIM Swin-B
(fd_swin-base-w6-to-swin-tiny-w6_16xb128-amp-300e_in1k-192px.py) on ImageNet-1K at 224 px,
window 7: the SimMIM Swin fine-tuning (swin-base-w7_simmim-100e-pre_...) with a Swin-T; the
window-6 relative position tables are resized to 7 on loading, as for SimMIM checkpoints.

    python tools/train.py configs/finetune/swin-tiny-w7_fd-300e-pre_16xb128-coslr-100e_in1k-224px.py \\
        --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/fd_swin-t/epoch_300.pth
"""
_base_ = 'swin-base-w7_simmim-100e-pre_16xb128-coslr-100e_in1k-224px.py'

model = dict(backbone=dict(arch='tiny'), head=dict(in_channels=768))
