"""Stop a run at start when it will call mmcv's compiled ops on the GPU but they have no
CUDA kernels (mmcv built on a machine without CUDA, or its ops not built at all).

mmdet's Mask R-CNN calls RoIAlign and NMS from ``mmcv.ops``; with a CPU-only mmcv the first
training iteration on a GPU fails deep inside the detector. Pretraining, classification and
segmentation call no mmcv op on the GPU.
"""
from typing import Optional

import torch

# default_scope of the configs whose models run mmcv ops on the GPU
SCOPES_WITH_MMCV_OPS = ('mmdet', )
FIX = ('rebuild mmcv with CUDA kernels on this node: `PYTHON=$(which python) MMCV_CUDA=1 '
       'bash tools/build_mmcv.sh --install` (README: "Install into an existing environment")')


def mmcv_cuda_ops_problem() -> Optional[str]:
    """Why mmcv's ops cannot run on CUDA tensors in this environment, or None."""
    try:
        from mmcv.ops import get_compiling_cuda_version
        compiled_with = get_compiling_cuda_version()
    except ImportError as error:
        return f'mmcv has no compiled ops ({error})'
    if compiled_with == 'not available':
        return 'mmcv\'s ops were compiled without CUDA'
    return None


def check_mmcv_ops(cfg) -> None:
    """Raise, naming the fix, if ``cfg`` runs on CUDA and needs mmcv ops that lack CUDA."""
    if cfg.get('default_scope') not in SCOPES_WITH_MMCV_OPS or not torch.cuda.is_available():
        return
    problem = mmcv_cuda_ops_problem()
    if problem:
        raise RuntimeError(f'{cfg.filename}: this {cfg.default_scope} model runs mmcv ops '
                           f'(RoIAlign, NMS) on the GPU, but {problem}. Fix: {FIX}.')
