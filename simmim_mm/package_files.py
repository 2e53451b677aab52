"""Where simmim_mm's configs and model index live, in a checkout and in an installed wheel.

OpenMMLab's convention: ``<package>/.mim/`` holds ``configs/``, ``tools/`` and
``model-index.yml``. In the
repository they are symbolic links to the top-level folders; a built wheel carries copies. So
``simmim_mm::pretrain/<config>.py`` works as a ``_base_`` from a user's own config once
simmim_mm is imported (tools/train.py imports it first), editable install or not: importing
simmim_mm names this module to MMEngine as the package's place
(:func:`simmim_mm.compat.mmengine.register_config_package`).
"""
import os.path as osp

MIM_DIR = osp.join(osp.dirname(osp.abspath(__file__)), '.mim')
CONFIG_DIR = osp.join(MIM_DIR, 'configs')
TOOLS_DIR = osp.join(MIM_DIR, 'tools')
MODEL_INDEX = osp.join(MIM_DIR, 'model-index.yml')
