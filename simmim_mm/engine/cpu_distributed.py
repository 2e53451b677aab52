import torch
import torch.distributed as dist
from mmengine.config import Config


def prepare_cpu_distributed(cfg: Config) -> None:
    """Let ``--launcher pytorch`` (torchrun, tools/dist_train.sh) run on CPU-only machines.

    MMEngine's launcher calls ``torch.cuda.set_device`` and wraps the model in DDP with
    ``device_ids=[local_rank]``, both of which need a GPU. Without one we start the gloo
    process group ourselves (the Runner reuses an initialized group) and wrap without
    device ids.
    """
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    cfg.setdefault('model_wrapper_cfg',
                   dict(type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False))
    strategy = cfg.get('strategy') or {}
    if strategy.get('type') == 'FSDPStrategy':  # FlexibleRunner: shard on the CPU
        wrapper = strategy.setdefault('model_wrapper', dict(type='MMFullyShardedDataParallel'))
        wrapper.setdefault('device_id', torch.device('cpu'))
