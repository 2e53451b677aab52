"""Download a checkpoint into the cache: resumable, retried, verified, atomic.

Data goes to ``NAME.part`` beside the final name; a cut connection or a new run resumes it
with an HTTP Range request; only a file whose sha256 matches (when one is known) is renamed
to its final name, so the cache never holds a partial or corrupt checkpoint under a name a
later run would trust. Google Drive's "can't scan this file for viruses" page is followed.
Hugging Face URLs are served by huggingface_hub instead (see model_zoo.py).
"""
import hashlib
import html
import http.client
import os
import os.path as osp
import re
import time
from typing import Optional, Tuple
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urljoin
from urllib.request import Request, urlopen

from filelock import FileLock
from tqdm import tqdm

CACHE_ENV = 'SIMMIM_MM_CACHE'
CHUNK = 1 << 20
USER_AGENT = 'simmim_mm-model-zoo'


class DownloadError(RuntimeError):
    """A download that failed; the message names the URL."""


class ChecksumError(DownloadError):
    """A downloaded file whose sha256 is not the published one (it has been deleted)."""


def cache_dir() -> str:
    """``$SIMMIM_MM_CACHE``, else ``~/.cache/simmim_mm/checkpoints``."""
    return os.environ.get(CACHE_ENV) or osp.join(
        osp.expanduser('~'), '.cache', 'simmim_mm', 'checkpoints')


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


def verify_sha256(path: str, expected: str, what: Optional[str] = None) -> None:
    """``expected`` is a full sha256 or a prefix of one (OpenMMLab file names carry 8 hex)."""
    actual = sha256_of(path)
    if not actual.startswith(expected.lower()):
        raise ChecksumError(f'{what or path}: sha256 {actual} does not match the published '
                            f'{expected}')


def gdrive_confirm_url(page: str, url: str) -> Optional[str]:
    """The real download URL behind Google Drive's large-file warning page: its download
    form (action + hidden inputs) or, on older pages, a link carrying ``confirm=``."""
    form = re.search(r'<form[^>]*id="download-form"[^>]*action="([^"]+)"(.*?)</form>', page, re.S)
    if form:
        fields = []
        for tag in re.findall(r'<input[^>]*>', form.group(2)):
            attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
            if attrs.get('type') == 'hidden' and 'name' in attrs:
                fields.append((attrs['name'], html.unescape(attrs.get('value', ''))))
        action = urljoin(url, html.unescape(form.group(1)))
        return f'{action}?{urlencode(fields)}'
    link = re.search(r'href="([^"]*confirm=[^"]+)"', page)
    return urljoin(url, html.unescape(link.group(1))) if link else None


def open_url(url: str, offset: int, timeout: float) -> Tuple[http.client.HTTPResponse, str]:
    """Open ``url`` from byte ``offset``; follow a Google Drive confirm page once. Returns the
    response and the URL that served it."""
    headers = {'User-Agent': USER_AGENT}
    if offset:
        headers['Range'] = f'bytes={offset}-'
    response = urlopen(Request(url, headers=headers), timeout=timeout)
    if not response.headers.get('Content-Type', '').startswith('text/html'):
        return response, url
    with response:
        page = response.read(CHUNK).decode('utf-8', 'replace')
    confirmed = gdrive_confirm_url(page, response.geturl())
    if confirmed is None:
        raise DownloadError(f'{url}: the server sent an HTML page, not a checkpoint (a Google '
                            'Drive quota or permission page?)')
    response = urlopen(Request(confirmed, headers=headers), timeout=timeout)
    if response.headers.get('Content-Type', '').startswith('text/html'):
        response.close()
        raise DownloadError(f'{url}: still an HTML page after the Google Drive confirmation')
    return response, confirmed


def _fetch(url: str, part: str, timeout: float, progress: bool) -> str:
    """Append the rest of ``url`` to ``part``; raises on a short read. Returns the URL that
    served it (after a Google Drive confirmation) so retries skip the warning page."""
    offset = osp.getsize(part) if osp.exists(part) else 0
    response, served_by = open_url(url, offset, timeout)
    with response:
        if offset and response.status != 206:  # the server ignored Range: start over
            offset = 0
        length = response.headers.get('Content-Length')
        total = offset + int(length) if length is not None else None
        with open(part, 'ab' if offset else 'wb') as f, tqdm(
                total=total,
                initial=offset,
                unit='B',
                unit_scale=True,
                disable=not progress,
                desc=osp.basename(part)[:-len('.part')]) as bar:
            for chunk in iter(lambda: response.read(CHUNK), b''):
                f.write(chunk)
                bar.update(len(chunk))
    if total is not None and osp.getsize(part) < total:
        raise http.client.IncompleteRead(b'', total - osp.getsize(part))
    return served_by


def download_url(url: str,
                 dst: str,
                 sha256: Optional[str] = None,
                 retries: int = 3,
                 timeout: float = 60.,
                 progress: bool = True,
                 backoff: float = 1.) -> str:
    """Download ``url`` to ``dst`` unless it is already there; see the module docstring.
    Processes that ask for the same ``dst`` at once (the ranks of a job) take turns on a
    lock file (``.NAME.lock``, kept): one downloads, the others find the file."""
    if osp.isfile(dst):
        return dst
    folder = osp.dirname(osp.abspath(dst))
    os.makedirs(folder, exist_ok=True)
    with FileLock(osp.join(folder, f'.{osp.basename(dst)}.lock')):
        if osp.isfile(dst):
            return dst
        return _download_unlocked(url, dst, sha256, retries, timeout, progress, backoff)


def _download_unlocked(url: str, dst: str, sha256: Optional[str], retries: int, timeout: float,
                       progress: bool, backoff: float) -> str:
    part, last_error = dst + '.part', None
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2**(attempt - 1))
        try:
            url = _fetch(url, part, timeout, progress)
            break
        except HTTPError as error:
            if error.code == 416 and osp.exists(part):  # our .part is no prefix of the file
                os.remove(part)
            elif error.code not in (408, 429) and error.code < 500:
                raise DownloadError(f'{url}: HTTP {error.code} {error.reason}') from None
            last_error = error
        except (URLError, OSError, http.client.HTTPException) as error:
            last_error = error
    else:
        raise DownloadError(f'{url}: failed after {retries + 1} attempts ({last_error!r}); '
                            f'{part} is kept and resumed next time')
    if sha256:
        try:
            verify_sha256(part, sha256, what=url)
        except ChecksumError as error:
            os.remove(part)
            raise ChecksumError(f'{error}; nothing was kept in {osp.dirname(dst)}') from None
    os.replace(part, dst)
    return dst
