"""Short name of the SimMIM Swin-B recipe: Swin-B/w6, 192 px, 100 epochs on ImageNet-1K, as in
configs/pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py (the long,
OpenMMLab-style name), which this file only inherits.

    python tools/train.py configs/simmim_swin-b.py    # work dir: work_dirs/simmim_swin-b
"""
_base_ = './pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py'
