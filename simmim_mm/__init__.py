"""SimMIM masked image modeling as an OpenMMLab / MMEngine plugin.

Importing it registers its components; simmim_mm/compat/__init__.py lists everything else the
import does to the process, and why.
"""
from .compat import apply_import_effects
from .version import __version__

apply_import_effects()  # first: it imports mmpretrain.models, as nothing of ours may before

from . import datasets, engine, evaluation, models, visualization  # noqa: E402,F401

__all__ = ['__version__']
