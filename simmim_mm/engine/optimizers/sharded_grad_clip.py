"""Gradient clipping of FSDP shards by the norm of the whole gradient.

Under FSDPStrategy (``use_fsdp=True``) each rank holds a shard of every gradient; MMEngine's
OptimWrapper would clip each shard by its own norm. Clipping by the norm over all ranks'
shards clips as one process would.
"""
import torch
import torch.distributed as dist


def sharded_grad_norm(params, norm_type: float = 2.0) -> torch.Tensor:
    """The norm of the gradient whose shards are the ``.grad`` of ``params`` on all ranks."""
    norm_type = float(norm_type)
    local = torch.nn.utils.get_total_norm([p.grad for p in params], norm_type)
    if not (dist.is_available() and dist.is_initialized()):
        return local
    if norm_type == float('inf'):
        dist.all_reduce(local, op=dist.ReduceOp.MAX)
        return local
    total = local.double()**norm_type
    dist.all_reduce(total)
    return (total**(1 / norm_type)).to(local.dtype)


def clip_sharded_grad_norm_(parameters,
                            max_norm: float,
                            norm_type: float = 2.0,
                            error_if_nonfinite: bool = False,
                            foreach=None) -> torch.Tensor:
    """``torch.nn.utils.clip_grad_norm_`` for sharded gradients: the total norm is
    :func:`sharded_grad_norm`. An OptimWrapper's ``clip_func`` (``clip_grad`` type norm)."""
    params = list(parameters)
    norm = sharded_grad_norm(params, norm_type)
    if error_if_nonfinite and not torch.isfinite(norm):
        raise RuntimeError(f'The total norm of order {norm_type} of the gradients is '
                           'non-finite, so it cannot be clipped')
    torch.nn.utils.clip_grads_with_norm_(params, max_norm, norm, foreach=foreach)
    return norm
