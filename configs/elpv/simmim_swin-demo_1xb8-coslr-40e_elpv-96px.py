"""SimMIM pretraining on ELPV's 1,968 training cells (their labels unused): the first stage of
the ELPV study (tools/analysis/elpv_study.py), and a recipe for a few thousand images of your
own on a CPU.

    python tools/train.py configs/elpv/simmim_swin-demo_1xb8-coslr-40e_elpv-96px.py

Then fine-tune from its last checkpoint with
configs/elpv/swin-demo_simmim-40e-pre_1xb32-coslr-30e_elpv-96px.py.

The algorithm (mask generator, L1 loss on the masked pixels, one-layer decoder), optimizer and
schedule shape (warmup for the first 10% of the epochs, then cosine) are those of
configs/pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py. What differs for a
small dataset, and why:
- model: the demo's Swin (48 wide, 2 blocks per stage, 5.1M encoder parameters) instead of
  Swin-B (88M): 1,968 images do not feed a Swin-B, and a small model trains on a CPU;
- resolution 96 px instead of 192: a 300 px cell's busbars and cracks stay visible, and a
  step costs a quarter of the pixels;
- mask patch 16 px instead of 32: the recipe's mask geometry (a 6 x 6 grid of blocks, 60%
  masked) at half the size, as the demo;
- grayscale: one input channel (LoadImageFromFileOrSkip(color_type='grayscale'),
  in_channels=1), so the decoder predicts one gray level, not three tinted copies;
- epochs: 40 epochs of 246 steps (9,840 steps, each image seen 40 times in different crops
  and masks), 4 warmup epochs: about 27 minutes on 2 CPU cores in float32, so that the whole
  ELPV study of one seed (this run, two 30-epoch fine-tunings, probes, tests) fits an hour;
  the study measures half and twice as long (tools/analysis/elpv_study.py --pretrain-epochs);
  lr 1e-3 at batch 8 as the demo (auto_scale_lr rescales it for another total batch);
- augmentation: the official crops of 67-100% and a flip: the cells are the only data, and
  stronger crops would hide what the masked blocks are learned from;
- hooks: reconstructions every 1,000 steps (ReconstructionHook), a checkpoint every 10 epochs
  and at the end; no inpainting baseline (the demo's scores every image 4 times).
"""
_base_ = [
    '../_base_/models/simmim_swin-base-w6.py',
    '../_base_/datasets/elpv_simmim_96.py',
    '../_base_/schedules/simmim-pretrain_adamw-coslr-100e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        img_size=96,
        in_channels=1,
        arch=dict(_delete_=True, embed_dims=48, depths=[2, 2, 2, 2], num_heads=[3, 6, 12, 24]),
        # windows of 6 on the 24, 12 and 6 token maps; the last map (3 x 3) is one window
        stage_cfgs=[dict(block_cfgs=dict(window_size=6))] * 3 +
        [dict(block_cfgs=dict(window_size=3))]))

optim_wrapper = dict(optimizer=dict(lr=1e-3))
auto_scale_lr = dict(base_batch_size=8)

default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=10, max_keep_ckpts=1))
# the base schedule's warmup and cosine (same lr ratios), on 40 epochs instead of 100
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6 / 2e-4,
        by_epoch=True,
        begin=0,
        end=4,
        convert_to_iter_based=True),
    dict(
        type='FullPhaseCosineAnnealingLR',
        T_max=40,
        eta_min_ratio=1e-5 / 2e-4,
        by_epoch=True,
        begin=4,
        end=40,
        convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=40)

custom_hooks = [dict(type='ReconstructionHook', interval=1000, num_images=4)]
randomness = dict(seed=0)
