"""PatchMerging channel order: the official Swin's and OpenMMLab's.

The official Swin (and Hugging Face's) concatenates the four 2x2 neighbours as groups
[x(0,0), x(1,0), x(0,1), x(1,1)] of C channels each (group-major); OpenMMLab's nn.Unfold
gives channel-major order with the neighbours as (0,0), (0,1), (1,0), (1,1). Converting
permutes the 4C input channels of the merge's norm and reduction.
"""
from torch import Tensor

# official group index of each OpenMMLab neighbour position; the permutation is its own inverse
_GROUP_ORDER = [0, 2, 1, 3]


def official_to_openmmlab(tensor: Tensor) -> Tensor:
    """Reorder the last dim (4C) from group-major official order to channel-major."""
    lead, width = tensor.shape[:-1], tensor.shape[-1]
    groups = tensor.reshape(*lead, 4, width // 4)[..., _GROUP_ORDER, :]
    return groups.transpose(-1, -2).reshape(*lead, width).contiguous()


def openmmlab_to_official(tensor: Tensor) -> Tensor:
    """The inverse of :func:`official_to_openmmlab`."""
    lead, width = tensor.shape[:-1], tensor.shape[-1]
    groups = tensor.reshape(*lead, width // 4, 4).transpose(-1, -2)[..., _GROUP_ORDER, :]
    return groups.reshape(*lead, width).contiguous()


def reorder_downsample(state_dict: dict, convert=official_to_openmmlab) -> dict:
    """Apply ``convert`` to every ``downsample.{reduction.weight,norm.*}`` of a state dict
    already in OpenMMLab naming."""
    return {k: convert(v) if '.downsample.' in k else v for k, v in state_dict.items()}


__all__ = ['official_to_openmmlab', 'openmmlab_to_official', 'reorder_downsample']
