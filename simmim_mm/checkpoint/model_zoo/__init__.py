"""The model zoo: the published SimMIM checkpoints that configs/metafile.yml lists, fetched
into the cache by name (resumable, verified downloads) and converted on request."""
from ...package_files import MODEL_INDEX
from ..model_index import get_model, load_models
from .download import ChecksumError, DownloadError, cache_dir, download_url
from .fetch import HF_HOST, download_model, file_name, resolve_checkpoint
from .listing import describe, readme_table, results_text, top1

__all__ = [
    'MODEL_INDEX', 'ChecksumError', 'DownloadError', 'HF_HOST', 'cache_dir', 'describe',
    'download_model', 'download_url', 'file_name', 'get_model', 'load_models', 'readme_table',
    'resolve_checkpoint', 'results_text', 'top1'
]
