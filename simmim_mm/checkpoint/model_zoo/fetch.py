"""Fetch a model-zoo checkpoint by its metafile name into the cache, optionally converted for
its simmim_mm config; :func:`resolve_checkpoint` lets a ``checkpoint=`` field take a name.

Hugging Face URLs go through huggingface_hub (its cache, resume, retries and LFS sha256
checks); every other URL through :func:`download_url`.
"""
import os.path as osp
import re
from typing import Optional
from urllib.parse import parse_qs, urlparse

from ...package_files import MODEL_INDEX
from ..conversion import convert_checkpoint
from ..model_index import config_path, get_model
from .download import cache_dir, download_url

HF_HOST = 'https://huggingface.co'
HF_URL = re.compile(
    re.escape(HF_HOST) + r'/(?P<repo>[^/]+/[^/]+)/resolve/(?P<revision>[^/]+)/'
    r'(?P<filename>.+)')


def file_name(model: dict) -> str:
    """The checkpoint's file name: the metafile's, else the URL's last path part (a Google
    Drive URL has none, so its id)."""
    meta, url = model.get('Metadata') or {}, model['Weights']
    if meta.get('File Name'):
        return meta['File Name']
    parsed = urlparse(url)
    return osp.basename(parsed.path) if parsed.path.endswith(('.pth', '.bin', '.safetensors')) \
        else parse_qs(parsed.query).get('id', ['checkpoint'])[0] + '.pth'


def download_model(name: str,
                   convert: bool = False,
                   root: Optional[str] = None,
                   progress: bool = True,
                   index: str = MODEL_INDEX,
                   hf_endpoint: Optional[str] = None) -> str:
    """Path of model ``name`` in the cache (``root`` or :func:`cache_dir`), downloading it
    first if needed; with ``convert``, of its simmim_mm conversion. ``hf_endpoint`` replaces
    https://huggingface.co (a mirror; huggingface_hub also reads $HF_ENDPOINT)."""
    model = get_model(name, index)
    meta, folder = model.get('Metadata') or {}, osp.join(root or cache_dir(), name)
    hf = HF_URL.fullmatch(model['Weights'])
    if hf:
        from huggingface_hub import hf_hub_download
        path = hf_hub_download(
            hf['repo'],
            hf['filename'],
            revision=hf['revision'],
            cache_dir=osp.join(root or cache_dir(), 'huggingface'),
            endpoint=hf_endpoint)
    else:
        path = download_url(
            model['Weights'],
            osp.join(folder, file_name(model)),
            sha256=meta.get('SHA256'),
            progress=progress)
    if not convert:
        return path
    source = meta.get('Source Format')
    if source in (None, 'none'):
        raise ValueError(f'{name} is already an mmpretrain checkpoint: nothing to convert')
    converted = osp.join(folder, f'{name}_converted.pth')
    if not osp.isfile(converted):  # without a config, the converter finds one or says why
        convert_checkpoint(path, converted, source, config=config_path(model, index), index=index)
    return converted


def resolve_checkpoint(checkpoint: str,
                       field: str = 'checkpoint',
                       index: Optional[str] = None,
                       root: Optional[str] = None) -> str:
    """A local file or URL as is; anything else is a model-zoo name (configs/metafile.yml),
    returned as the path of its conversion in the cache (:func:`cache_dir`, or ``root``),
    downloaded and converted first if needed. ``field`` names the setting in the error."""
    if osp.isfile(checkpoint) or '://' in checkpoint:
        return checkpoint
    index = index or MODEL_INDEX
    try:
        model = get_model(checkpoint, index)
    except KeyError as error:
        raise FileNotFoundError(f'{field}={checkpoint!r} is neither a file nor a model-zoo '
                                f'name (tools/model_zoo.py list): {error.args[0]}') from None
    source = (model.get('Metadata') or {}).get('Source Format')
    return download_model(checkpoint, convert=source not in (None, 'none'), root=root, index=index)
