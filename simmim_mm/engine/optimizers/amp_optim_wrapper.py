import torch
from mmengine.device import get_device
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from simmim_mm.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AnyDeviceAmpOptimWrapper(AmpOptimWrapper):
    """MMEngine's AmpOptimWrapper, which refuses to build without a GPU, made to run anywhere.

    On CUDA / NPU / MLU / MUSA it is AmpOptimWrapper unchanged: the official SimMIM's fp16
    autocast with dynamic loss scaling (or ``dtype`` if given). On CPU, where autocast supports
    only bfloat16, it autocasts to bfloat16 with no loss scaler (bf16 has fp32's range), so
    the same config trains on a laptop, in CI and on a cluster.
    """

    def __init__(self, loss_scale='dynamic', dtype=None, use_fsdp=False, **kwargs):
        if get_device() != 'cpu':
            super().__init__(loss_scale=loss_scale, dtype=dtype, use_fsdp=use_fsdp, **kwargs)
            return
        if dtype not in (None, 'bfloat16', torch.bfloat16):
            print_log(f'AnyDeviceAmpOptimWrapper: dtype={dtype} is not supported by CPU '
                      'autocast; using bfloat16', logger='current')
        OptimWrapper.__init__(self, **kwargs)
        self._scale_update_param = None
        self.loss_scaler = torch.amp.GradScaler('cpu', enabled=False)  # passes through
        self.cast_dtype = torch.bfloat16
