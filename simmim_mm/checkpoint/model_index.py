"""The model index: ``model-index.yml`` and the metafiles it imports, read as MMEngine and mim
read them. It names each published checkpoint and, in its ``Config`` field, the config the
checkpoint loads into: the model zoo finds weights here, the converter the configs to try.
A ``Config`` is a path relative to the index's folder (``<package>/.mim/``), or
``package::path`` for another OpenMMLab package's config.
"""
import difflib
import os.path as osp
from typing import List, Optional

import yaml

from ..package_files import MODEL_INDEX


def load_models(index: str = MODEL_INDEX) -> List[dict]:
    """The ``Models`` of every metafile that ``index`` (a model-index.yml) imports."""
    with open(index) as f:
        imports = yaml.safe_load(f).get('Import', [])
    models = []
    for metafile in imports:
        with open(osp.join(osp.dirname(index), metafile)) as f:
            models.extend(yaml.safe_load(f).get('Models', []))
    return models


def get_model(name: str, index: str = MODEL_INDEX) -> dict:
    models = {m['Name']: m for m in load_models(index)}
    if name not in models:
        close = [m for m in models if name in m] or difflib.get_close_matches(
            name, models, n=3, cutoff=0.4)
        hint = f'; did you mean {", ".join(close)}?' if close else ''
        raise KeyError(f'no model {name!r} in {index}{hint}')
    return models[name]


def config_path(model: dict, index: str = MODEL_INDEX) -> Optional[str]:
    """``model``'s config: a path inside the index's folder, ``package::path`` as written,
    or None when the metafile gives none."""
    config = model.get('Config')
    if config and '::' not in config:
        return osp.join(osp.dirname(index), config)
    return config


def package_configs(index: str = MODEL_INDEX) -> List[str]:
    """Every config of this package that the index names (not another package's
    ``package::path``), once each, in metafile order."""
    configs = (config_path(model, index) for model in load_models(index))
    return list(dict.fromkeys(c for c in configs if c and '::' not in c))
