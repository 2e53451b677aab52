"""ADE20K UperNet with a SimMIM-pretrained Swin-B backbone, 512x512 crops, 160k iterations
(mmsegmentation 1.2.2).

    python tools/train.py configs/downstream/mmseg/upernet_swin-base-w7-simmim-100e-pre_8xb2-160k_ade20k-512x512.py \\
        --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/simmim_swin-b/epoch_100.pth

mmseg's Swin UperNet recipe (AdamW 6e-5, wd 0.01, poly) with the SimMIM backbone and
layer-wise lr decay 0.9 (configs/_base_/models/simmim_swin-base-w7_dense.py). Drop path is the
backbone's 0.2, shared with detection, where mmseg's supervised Swin-B uses 0.3.
"""
_base_ = [
    'mmseg::swin/swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py',
    '../../_base_/models/simmim_swin-base-w7_dense.py',
]
# simmim_mm first: it imports mmpretrain.models itself, and under transformers 5 only it can
custom_imports = dict(imports=['simmim_mm'], allow_failed_imports=False)

model = dict(
    backbone={{_base_.simmim_swin_b_backbone}},
    decode_head=dict(in_channels={{_base_.simmim_swin_b_channels}}),
    auxiliary_head=dict(in_channels=512))
optim_wrapper = {{_base_.simmim_layer_decay}}
