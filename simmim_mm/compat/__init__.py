"""Workarounds for upstream behaviour, one module per upstream (mmengine.py, mmpretrain.py,
torch.py, transformers.py), each with the version it targets, the behaviour it works around
and a test in tests/test_compat/ that fails once upstream behaves.

It is also the one list of what ``import simmim_mm`` does to the process beyond defining and
registering its own classes (tests/test_compat/test_import_effects.py checks that it is all):

1. ``mmpretrain.models`` is imported; with transformers >= 4.52 without its multimodal models:
   ``sys.modules['mmpretrain.models.multimodal']`` is a stand-in and mmpretrain's ``MODELS``
   holds placeholders for them that say why they cannot be built (transformers.py). Why:
   mmpretrain 1.2.0's own import fails there, and our registries hang below its.
2. ``mmengine.config.utils.MODULE2PACKAGE['simmim_mm'] = 'simmim_mm.package_files'``
   (mmengine.py, :func:`register_config_package`). Why: so that ``simmim_mm::<config>`` works
   as a ``_base_`` in a user's config, editable install or not.
3. A warnings filter that ignores MMEngine's "There is not `Config` define in" from
   ``mmengine.config.utils`` (mmengine.py, :func:`quiet_model_index_warnings`). Why: resolving
   a ``simmim_mm::`` config would warn once for each model-index checkpoint without a config.
4. torch's ``weights_only`` allowlist gains MMEngine's HistoryBuffer, the numpy types inside it
   and a ``getattr`` stand-in limited to its statistics methods (torch.py). Why: MMEngine
   0.10.7 resumes and loads its own checkpoints with torch's default, ``weights_only=True``
   since torch 2.6.
5. Registries: simmim_mm's registries (registry.py) join mmpretrain's as children (the
   runners' join MMEngine's root), as every OpenMMLab plugin's do, and
   ``BackboneLayerDecayOptimWrapperConstructor`` is registered in mmdet's and mmseg's
   ``OPTIM_WRAPPER_CONSTRUCTORS`` where they are installed, which imports ``mmdet.registry``
   and ``mmseg.registry`` (mmengine.py, :func:`register_in_other_scopes`). Why: their configs
   cannot name a simmim_mm optimizer constructor otherwise. ``encoder_block_wrap_policy``
   is registered in MMEngine's root ``FUNCTIONS`` (engine/fsdp_wrap_policy.py). Why:
   MMEngine's FSDP wrapper looks its ``auto_wrap_policy`` up there only.

Nothing else: no monkeypatched upstream function or class, no environment variable, signal
handler, torch setting or default scope.
"""
from .mmengine import quiet_model_index_warnings, register_config_package
from .torch import allow_mmengine_checkpoints
from .transformers import import_mmpretrain_models


def apply_import_effects() -> None:
    """Effects 1-4 above, in an order that works: mmpretrain first, before anything of ours
    imports it (effect 5 happens as simmim_mm's modules are imported)."""
    import_mmpretrain_models()
    register_config_package('simmim_mm', 'simmim_mm.package_files')
    quiet_model_index_warnings()
    allow_mmengine_checkpoints()
