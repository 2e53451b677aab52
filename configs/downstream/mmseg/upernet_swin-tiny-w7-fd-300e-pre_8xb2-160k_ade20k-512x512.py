"""ADE20K UperNet, 512x512, 160k iterations, with the Swin-T distilled by FD from the SimMIM
Swin-B (fd_swin-base-w6-to-swin-tiny-w6_16xb128-amp-300e_in1k-192px.py): the SimMIM Swin-B
segmentation config (configs/downstream/mmseg/) with a Swin-T, loaded like a SimMIM checkpoint.

    python tools/train.py configs/downstream/mmseg/upernet_swin-tiny-w7-fd-300e-pre_8xb2-160k_ade20k-512x512.py \\
        --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/fd_swin-t/epoch_300.pth
"""
_base_ = 'upernet_swin-base-w7-simmim-100e-pre_8xb2-160k_ade20k-512x512.py'

model = dict(
    backbone=dict(arch='tiny'),
    decode_head=dict(in_channels=[96, 192, 384, 768]),
    auxiliary_head=dict(in_channels=384))
