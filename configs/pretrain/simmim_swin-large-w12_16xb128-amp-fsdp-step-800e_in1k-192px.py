"""SimMIM Swin-L/w12 800e (simmim_swin-l_800e.py) with parameters, gradients and AdamW states
sharded over the ranks: FSDP through MMEngine's FlexibleRunner, one FSDP unit per Swin block.
The same recipe and numerics as the DDP config: clipping uses the norm of the whole gradient
across shards (AnyDeviceAmpOptimWrapper with use_fsdp=True).

    bash tools/dist_train.sh configs/pretrain/simmim_swin-large-w12_16xb128-amp-fsdp-step-800e_in1k-192px.py 8

Checkpoints hold the full state dict gathered on rank 0 (state_dict_cfg='full'): the keys of a
DDP run, so fine-tuning configs and tools/convert_checkpoint.py read them unchanged. Unlike the
DDP configs' AtomicCheckpointRunner, FlexibleRunner writes checkpoints in place.
For SwinV2 or ViT, set `_base_` to their config: the wrap policy knows their blocks too.
"""
_base_ = 'simmim_swin-large-w12_16xb128-amp-step-800e_in1k-192px.py'

runner_type = 'FlexibleRunner'
strategy = dict(
    type='FSDPStrategy',
    state_dict_cfg='full',
    model_wrapper=dict(
        type='MMFullyShardedDataParallel',
        use_orig_params=True,
        auto_wrap_policy=dict(type='encoder_block_wrap_policy')))
optim_wrapper = dict(use_fsdp=True)
