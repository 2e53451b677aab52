"""simmim_mm's registries: a child of each of mmpretrain's (the runners': of MMEngine's, below),
so that configs in the ``simmim_mm`` scope find our components first and every mmpretrain /
mmengine component (Swin, datasets, transforms, hooks, optimizers, visualizers) through the
parent."""
from mmengine import registry as mmengine_registry
from mmengine.registry import Registry
from mmpretrain import registry as mmpretrain_registry


class ChildRegistry(Registry):
    """A registry that, before a lookup, imports its parent's locations as well as its own.

    MMEngine 0.10.7 imports only the looked-up registry's own ``locations`` and then searches
    the parents' tables, so mmpretrain's lazily registered components (its transforms, say)
    would not resolve in our scope until something imported them.
    """

    def import_from_location(self) -> None:
        super().import_from_location()
        self.parent.import_from_location()


def _child(parent: Registry, locations) -> Registry:
    # `locations`: where we register into it, never empty (MMEngine would look for a
    # `simmim_mm.utils.register_all_modules` instead)
    return ChildRegistry(parent.name, parent=parent, scope='simmim_mm', locations=locations)


# A child of MMEngine's root, not of mmpretrain's (which holds no runner): the root resolves
# a scoped name only among its own children, and mmpretrain's own tools/train.py builds
# `runner_type='simmim_mm.AtomicCheckpointRunner'` from the root, with no default scope yet.
RUNNERS = _child(mmengine_registry.RUNNERS, ['simmim_mm.engine'])
RUNNER_CONSTRUCTORS = _child(mmpretrain_registry.RUNNER_CONSTRUCTORS, ['simmim_mm.engine'])
LOOPS = _child(mmpretrain_registry.LOOPS, ['simmim_mm.engine'])
HOOKS = _child(mmpretrain_registry.HOOKS, ['simmim_mm.engine'])
LOG_PROCESSORS = _child(mmpretrain_registry.LOG_PROCESSORS, ['simmim_mm.engine'])
OPTIMIZERS = _child(mmpretrain_registry.OPTIMIZERS, ['simmim_mm.engine'])
OPTIM_WRAPPERS = _child(mmpretrain_registry.OPTIM_WRAPPERS, ['simmim_mm.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = _child(mmpretrain_registry.OPTIM_WRAPPER_CONSTRUCTORS,
                                    ['simmim_mm.engine'])
PARAM_SCHEDULERS = _child(mmpretrain_registry.PARAM_SCHEDULERS, ['simmim_mm.engine'])
DATASETS = _child(mmpretrain_registry.DATASETS, ['simmim_mm.datasets'])
DATA_SAMPLERS = _child(mmpretrain_registry.DATA_SAMPLERS, ['simmim_mm.datasets'])
TRANSFORMS = _child(mmpretrain_registry.TRANSFORMS, ['simmim_mm.datasets'])
MODELS = _child(mmpretrain_registry.MODELS, ['simmim_mm.models'])
MODEL_WRAPPERS = _child(mmpretrain_registry.MODEL_WRAPPERS, ['simmim_mm.models'])
WEIGHT_INITIALIZERS = _child(mmpretrain_registry.WEIGHT_INITIALIZERS, ['simmim_mm.models'])
METRICS = _child(mmpretrain_registry.METRICS, ['simmim_mm.evaluation'])
EVALUATORS = _child(mmpretrain_registry.EVALUATORS, ['simmim_mm.evaluation'])
VISUALIZERS = _child(mmpretrain_registry.VISUALIZERS, ['simmim_mm.visualization'])
VISBACKENDS = _child(mmpretrain_registry.VISBACKENDS, ['simmim_mm.visualization'])
