"""simmim_mm's registries: a child of each of mmpretrain's (the runners': of MMEngine's, below),
so that configs in the ``simmim_mm`` scope find our components first and every mmpretrain /
mmengine component (Swin, datasets, transforms, hooks, optimizers, visualizers) through the
parent."""
from mmengine import registry as mmengine_registry
from mmengine.registry import Registry
from mmpretrain import registry as mmpretrain_registry


def _child(parent: Registry, locations=()) -> Registry:
    # mmpretrain registers lazily from its `locations`, which a child does not import:
    # inherit them so that e.g. its transforms resolve in our scope.
    return Registry(parent.name, parent=parent, scope='simmim_mm',
                    locations=list(locations) + list(parent._locations))


# A child of MMEngine's root, not of mmpretrain's (which holds no runner): the root resolves
# a scoped name only among its own children, and mmpretrain's own tools/train.py builds
# `runner_type='simmim_mm.AtomicCheckpointRunner'` from the root, with no default scope yet.
RUNNERS = _child(mmengine_registry.RUNNERS, ['simmim_mm.engine'])
RUNNER_CONSTRUCTORS = _child(mmpretrain_registry.RUNNER_CONSTRUCTORS)
LOOPS = _child(mmpretrain_registry.LOOPS, ['simmim_mm.engine'])
HOOKS = _child(mmpretrain_registry.HOOKS, ['simmim_mm.engine'])
LOG_PROCESSORS = _child(mmpretrain_registry.LOG_PROCESSORS)
OPTIMIZERS = _child(mmpretrain_registry.OPTIMIZERS)
OPTIM_WRAPPERS = _child(mmpretrain_registry.OPTIM_WRAPPERS, ['simmim_mm.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = _child(mmpretrain_registry.OPTIM_WRAPPER_CONSTRUCTORS,
                                    ['simmim_mm.engine'])
PARAM_SCHEDULERS = _child(mmpretrain_registry.PARAM_SCHEDULERS, ['simmim_mm.engine'])
DATASETS = _child(mmpretrain_registry.DATASETS, ['simmim_mm.datasets'])
DATA_SAMPLERS = _child(mmpretrain_registry.DATA_SAMPLERS, ['simmim_mm.datasets'])
TRANSFORMS = _child(mmpretrain_registry.TRANSFORMS, ['simmim_mm.datasets'])
MODELS = _child(mmpretrain_registry.MODELS, ['simmim_mm.models'])
MODEL_WRAPPERS = _child(mmpretrain_registry.MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child(mmpretrain_registry.WEIGHT_INITIALIZERS)
METRICS = _child(mmpretrain_registry.METRICS)
EVALUATORS = _child(mmpretrain_registry.EVALUATORS)
VISUALIZERS = _child(mmpretrain_registry.VISUALIZERS)
VISBACKENDS = _child(mmpretrain_registry.VISBACKENDS)
