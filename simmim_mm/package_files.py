"""Where simmim_mm's configs and model index live, in a checkout and in an installed wheel.

OpenMMLab's convention: ``<package>/.mim/`` holds ``configs/``, ``tools/`` and
``model-index.yml``. In the
repository they are symbolic links to the top-level folders; a built wheel carries copies. So
``simmim_mm::pretrain/<config>.py`` works as a ``_base_`` from a user's own config once
simmim_mm is imported (tools/train.py imports it first), editable install or not.
"""
import os.path as osp
import warnings

MIM_DIR = osp.join(osp.dirname(osp.abspath(__file__)), '.mim')
CONFIG_DIR = osp.join(MIM_DIR, 'configs')
TOOLS_DIR = osp.join(MIM_DIR, 'tools')
MODEL_INDEX = osp.join(MIM_DIR, 'model-index.yml')


def register_config_package() -> None:
    """Let MMEngine resolve ``simmim_mm::<folder>/<config>.py``.

    MMEngine 0.10.7 knows only the packages in its ``MODULE2PACKAGE`` table, and finds a
    distribution's folder as ``<dist location>/<name>``, which is site-packages for an editable
    install (not the checkout). Naming this module instead of the distribution sends it to its
    other route, ``importlib.util.find_spec``, whose origin is the real package folder for
    wheel and editable installs alike."""
    from mmengine.config.utils import MODULE2PACKAGE
    MODULE2PACKAGE.setdefault('simmim_mm', __name__)
    # It also scans the model index, and warns about each checkpoint that fits no config
    # (configs/metafile.yml says why for each); that is no news to a user resolving a config.
    warnings.filterwarnings('ignore', message='There is not `Config` define in',
                            category=UserWarning, module='mmengine.config.utils')
