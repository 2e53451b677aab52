"""Import mmpretrain 1.2.0 in an environment with a newer transformers (4.52 on, 5 included).

mmpretrain 1.2.0 (its last release) imports its multimodal models (BLIP, BLIP-2, OFA, RAM,
...) whenever transformers >= 4.28 is installed. They import names that later transformers
releases dropped from ``transformers.modeling_utils``: OFA's ``GenerationMixin`` (gone in
4.52, "ImportError: cannot import name 'GenerationMixin'"), BLIP's ``apply_chunking_to_forward`` /
``prune_linear_layer`` (4.56), whose guarded import then leaves ``PreTrainedModel = None``
("TypeError: NoneType takes no arguments", transformers 5). SimMIM uses none of those models.

So with transformers >= 4.52, mmpretrain is imported without them, as mmpretrain does itself
when transformers is missing: a stand-in for ``mmpretrain.models.multimodal``, and registry
placeholders that raise a clear ImportError if a config asks for one of those models.
This is the only place that touches mmpretrain's import; tests/test_compat/test_transformers.py
fails once ``import mmpretrain.models`` works under transformers 5, and then this can go.
"""
import re
import sys
import types
from importlib import metadata

# the first transformers release that mmpretrain 1.2's multimodal models cannot import
FIRST_INCOMPATIBLE = (4, 52)

MULTIMODAL = 'mmpretrain.models.multimodal'
# mmpretrain 1.2.0's multimodal models (its own list of placeholders)
MULTIMODAL_MODELS = [
    'Blip2Caption', 'Blip2Retrieval', 'Blip2VQA', 'BlipCaption', 'BlipNLVR', 'BlipRetrieval',
    'BlipGrounding', 'BlipVQA', 'Flamingo', 'OFA', 'ChineseCLIP', 'MiniGPT4', 'Llava', 'Otter',
    'CLIP', 'CLIPZeroShot', 'RAM', 'RAMNormal', 'RAMOpenset'
]


def transformers_version():
    """The installed transformers' (major, minor), without importing it (None if absent)."""
    try:
        return tuple(int(n) for n in re.findall(r'\d+', metadata.version('transformers'))[:2])
    except metadata.PackageNotFoundError:
        return None


def import_mmpretrain_models() -> None:
    """``import mmpretrain.models``, without its multimodal models under transformers >= 4.52."""
    if ('mmpretrain.models' in sys.modules
            or (transformers_version() or (0, )) < FIRST_INCOMPATIBLE):
        import mmpretrain.models  # noqa: F401
        return
    stand_in = types.ModuleType(
        MULTIMODAL, 'mmpretrain multimodal models: not loaded, they '
        'need transformers < 4.52 (see simmim_mm.compat.transformers)')
    sys.modules[MULTIMODAL] = stand_in
    import mmpretrain.models
    from mmpretrain.registry import MODELS
    mmpretrain.models.multimodal = stand_in
    for name in MULTIMODAL_MODELS:
        if name not in MODELS:
            MODELS.register_module(name=name, module=_needs_old_transformers(name))


def _needs_old_transformers(name: str):
    """A registry entry that says why ``name`` cannot be built (mmpretrain's own placeholder
    binds the loop variable late and names the last model for all of them)."""

    def placeholder(*args, **kwargs):
        raise ImportError(f'{name} is one of mmpretrain 1.2\'s multimodal models, which need '
                          'transformers < 4.52 (this environment has transformers '
                          f'{metadata.version("transformers")}): pip install "transformers<4.52"')

    placeholder.__name__ = name
    return placeholder
