from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from torch import nn

from simmim_mm.registry import OPTIM_WRAPPER_CONSTRUCTORS


class _TrainableParts(nn.Module):
    """The children of a model but its frozen ``teacher``, under the same names, so that
    paramwise_cfg keys ('backbone.mask_token', ...) match as on the model itself."""

    def __init__(self, model: nn.Module):
        super().__init__()
        for name, param in model.named_parameters(recurse=False):
            self.register_parameter(name, param)
        for name, child in model.named_children():
            if name != 'teacher':
                self.add_module(name, child)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class DistillerOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """MMEngine's default constructor over a distiller without its teacher: the teacher's
    parameters are in no param group (MMEngine's would list them all when there is no
    paramwise_cfg, and log one warning per frozen parameter when there is)."""

    def __call__(self, model: nn.Module) -> OptimWrapper:
        model = model.module if hasattr(model, 'module') else model
        return super().__call__(_TrainableParts(model))
