# SimMIM Swin-B/w6 at 192 px: 89.87M parameters (encoder + decoder).
# The encoder is mmpretrain's SimMIMSwinTransformer: its Swin plus a mask token that replaces
# masked patch embeddings after the patch-embed norm (checked to match the official code).
# simmim_mm's registers it with cheaper window reordering: bit-identical outputs, gradients,
# parameter names (simmim_mm/models/encoders/swin.py).
model = dict(
    type='SimMIM',
    backbone=dict(
        type='SimMIMSwinTransformer',
        arch='base',
        img_size=192,
        drop_path_rate=0.0,
        stage_cfgs=dict(block_cfgs=dict(window_size=6))),
    # in_channels / out_channels follow the encoder (1024) and the image (3)
    neck=dict(type='SimMIMDecoder', encoder_stride=32),
    head=dict(type='SimMIMReconstructionHead', criterion='L1'))
