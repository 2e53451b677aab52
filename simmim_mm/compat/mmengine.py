"""Workarounds for MMEngine 0.10.7 behaviour, one section per concern.

Each names the behaviour it works around (and the upstream issue where there is one);
tests/test_compat/test_mmengine.py holds the tests that fail once MMEngine behaves, so that
the workaround can go.
"""
import warnings

from mmengine.config.utils import MODULE2PACKAGE

# ---- registry and config resolution


def register_config_package(package: str, module: str) -> None:
    """Let ``Config.fromfile`` resolve ``<package>::<folder>/<config>.py``.

    MMEngine 0.10.7 resolves such a base only for the packages of its ``MODULE2PACKAGE``
    table ("mmengine does not support to load <package> config", open-mmlab/mmengine#1410),
    and finds a distribution's folder as ``<dist location>/<name>``, which is site-packages
    for an editable install (not the checkout). Naming ``module`` (a module at the package's
    top level) instead of the distribution sends it to its other route,
    ``importlib.util.find_spec``, whose origin is the real package folder for wheel and
    editable installs alike.
    """
    MODULE2PACKAGE.setdefault(package, module)


def quiet_model_index_warnings() -> None:
    """Drop MMEngine's warning for each model-index entry without a ``Config``.

    MMEngine 0.10.7 scans the package's model index every time it resolves a
    ``<package>::`` config and warns "There is not `Config` define in ..." for each
    checkpoint that fits no config (configs/metafile.yml says why for each): no news to a
    user resolving a config. Only that message from ``mmengine.config.utils`` is ignored.
    """
    warnings.filterwarnings('ignore', message='There is not `Config` define in',
                            category=UserWarning, module='mmengine.config.utils')


def register_in_other_scopes(cls: type, registry: str,
                             packages=('mmdet', 'mmseg')) -> None:
    """Register ``cls`` in ``<package>.registry.<registry>`` too, for each installed package.

    MMEngine 0.10.7's ``Registry.get`` resolves a scoped name (``simmim_mm.X``) from another
    scope only among the root registry's direct children; simmim_mm's registries hang below
    mmpretrain's, so an mmdet or mmseg config cannot name ``cls`` at all where no ``_scope_``
    can be given (``optim_wrapper.constructor`` is a bare type name). Registered in their
    scopes, their configs name it plainly.
    """
    import importlib
    for package in packages:
        try:
            module = importlib.import_module(f'{package}.registry')
        except ImportError:
            continue
        getattr(module, registry).register_module(module=cls)
