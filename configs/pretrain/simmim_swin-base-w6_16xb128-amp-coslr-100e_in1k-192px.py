"""SimMIM Swin-B/w6, 192 px, 100 epochs on ImageNet-1K: the official recipe
(fine-tuned top-1 82.8 at 192 px, 83.5 at 224 px).

Reference total batch 2048 = 16 GPUs x 128; other totals rescale lr linearly.
    python tools/train.py configs/pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py
    bash tools/dist_train.sh configs/pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py 8
"""
_base_ = [
    '../_base_/models/simmim_swin-base-w6.py',
    '../_base_/datasets/imagenet_simmim_192.py',
    '../_base_/schedules/simmim-pretrain_adamw-coslr-100e.py',
    '../_base_/default_runtime.py',
]
