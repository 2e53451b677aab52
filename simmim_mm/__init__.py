"""SimMIM masked image modeling as an OpenMMLab / MMEngine plugin."""
from .transformers_compat import import_mmpretrain_models
from .version import __version__

import_mmpretrain_models()  # before anything of ours imports mmpretrain

from .checkpoint import allow_mmengine_checkpoints  # noqa: E402
from .package_files import register_config_package  # noqa: E402

allow_mmengine_checkpoints()
register_config_package()

from . import datasets, engine, evaluation, models, visualization  # noqa: E402,F401

__all__ = ['__version__']
