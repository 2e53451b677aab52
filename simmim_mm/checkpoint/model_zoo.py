"""The model zoo: the metafile's published SimMIM checkpoints, downloaded into the cache and
optionally converted for their simmim_mm config.

Hugging Face URLs go through huggingface_hub (its cache, resume, retries and LFS sha256
checks); every other URL through :func:`download_url`.
"""
import difflib
import os.path as osp
import re
from typing import Dict, List, Optional
from urllib.parse import parse_qs, urlparse

import yaml

from ..package_files import MIM_DIR, MODEL_INDEX
from .convert import convert_checkpoint
from .download import cache_dir, download_url

HF_HOST = 'https://huggingface.co'
HF_URL = re.compile(re.escape(HF_HOST) + r'/(?P<repo>[^/]+/[^/]+)/resolve/(?P<revision>[^/]+)/'
                    r'(?P<filename>.+)')


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


def file_name(model: dict) -> str:
    """The checkpoint's file name: the metafile's, else the URL's last path part (a Google
    Drive URL has none, so its id)."""
    meta, url = model.get('Metadata') or {}, model['Weights']
    if meta.get('File Name'):
        return meta['File Name']
    parsed = urlparse(url)
    return osp.basename(parsed.path) if parsed.path.endswith(('.pth', '.bin', '.safetensors')) \
        else parse_qs(parsed.query).get('id', ['checkpoint'])[0] + '.pth'


def top1(model: dict) -> Optional[float]:
    """The best reported fine-tuning top-1 of a model."""
    scores = [r.get('Metrics', {}).get('Top 1 Accuracy') for r in model.get('Results') or []]
    scores = [s for s in scores if s is not None]
    return max(scores) if scores else None


def results_text(model: dict) -> str:
    """Every reported top-1 with its fine-tuning setting, e.g. ``82.8 (192px w6)``."""
    parts = []
    for result in model.get('Results') or []:
        score = result.get('Metrics', {}).get('Top 1 Accuracy')
        if score is not None:
            setting = result.get('Fine-tune')
            parts.append(f'{score} ({setting})' if setting else str(score))
    return ', '.join(parts) or '-'


def download_model(name: str, convert: bool = False, root: Optional[str] = None,
                   progress: bool = True, index: str = MODEL_INDEX,
                   hf_endpoint: Optional[str] = None) -> str:
    """Path of model ``name`` in the cache (``root`` or :func:`cache_dir`), downloading it
    first if needed; with ``convert``, of its simmim_mm conversion. ``hf_endpoint`` replaces
    https://huggingface.co (a mirror; huggingface_hub also reads $HF_ENDPOINT)."""
    model = get_model(name, index)
    meta, folder = model.get('Metadata') or {}, osp.join(root or cache_dir(), name)
    hf = HF_URL.fullmatch(model['Weights'])
    if hf:
        from huggingface_hub import hf_hub_download
        path = hf_hub_download(hf['repo'], hf['filename'], revision=hf['revision'],
                               cache_dir=osp.join(root or cache_dir(), 'huggingface'),
                               endpoint=hf_endpoint)
    else:
        path = download_url(model['Weights'], osp.join(folder, file_name(model)),
                            sha256=meta.get('SHA256'), progress=progress)
    if not convert:
        return path
    source = meta.get('Source Format')
    if source in (None, 'none'):
        raise ValueError(f'{name} is already an mmpretrain checkpoint: nothing to convert')
    config = model.get('Config')
    if config and '::' not in config:
        config = osp.join(osp.dirname(index), config)
    converted = osp.join(folder, f'{name}_converted.pth')
    if not osp.isfile(converted):  # without a config, the converter finds one or says why
        convert_checkpoint(path, converted, source, config=config)
    return converted


def readme_table(models: List[dict]) -> str:
    """README's model-zoo table, one row per metafile model."""
    rows = ['| name | architecture | pretrain epochs | published by | fine-tune top-1 | config '
            '| download |', '|---|---|---|---|---|---|---|']
    for m in models:
        meta = m.get('Metadata') or {}
        config = m.get('Config')
        config = f'[{osp.basename(config)}]({config})' if config and '::' not in config \
            else (f'`{config}`' if config else '-')
        rows.append(f'| {m["Name"]} | {meta.get("Architecture", "")} | '
                    f'{meta.get("Epochs", "-")} | {meta.get("Publisher", "")} | '
                    f'{results_text(m)} | {config} | [weights]({m["Weights"]}) |')
    return '\n'.join(rows) + '\n'


def describe(model: dict) -> Dict[str, object]:
    """The fields ``tools/model_zoo.py info`` prints."""
    meta = model.get('Metadata') or {}
    return {'name': model['Name'], 'architecture': meta.get('Architecture'),
            'image size': meta.get('Image Size'), 'epochs': meta.get('Epochs'),
            'publisher': meta.get('Publisher'), 'source format': meta.get('Source Format'),
            'config': model.get('Config'), 'fine-tune top-1': results_text(model),
            'url': model['Weights'], 'file': file_name(model),
            'size': meta.get('File Size'), 'sha256': meta.get('SHA256'),
            'note': meta.get('Note')}
