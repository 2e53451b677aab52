"""The ELPV fine-tuning from random weights: the baseline the SimMIM-pretrained encoder must
beat. Everything but the encoder's initialisation (data, model, optimizer, schedule,
augmentation, test) is configs/elpv/swin-demo_simmim-40e-pre_1xb32-coslr-30e_elpv-96px.py.

    python tools/train.py configs/elpv/swin-demo_1xb32-coslr-30e_elpv-96px.py
    python tools/test.py configs/elpv/swin-demo_1xb32-coslr-30e_elpv-96px.py \\
        work_dirs/swin-demo_1xb32-coslr-30e_elpv-96px/epoch_30.pth
"""
_base_ = 'swin-demo_simmim-40e-pre_1xb32-coslr-30e_elpv-96px.py'

# the classifier's own init (truncated normal linears, unit LayerNorms) instead of SimMIM's
model = dict(backbone=dict(init_cfg=None))
