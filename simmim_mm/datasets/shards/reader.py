"""Read WebDataset tar shards as a stream, from a local path, an ``http(s)://`` URL or a
``pipe:`` command (how S3, GCS and Azure are read with their own CLI), with retries."""
import posixpath
import subprocess
import tarfile
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from typing import BinaryIO, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from braceexpand import braceexpand

# a sample is the consecutive tar members that share a key: `<key>.<extension>`
Sample = Tuple[str, Dict[str, bytes]]


class ShardReadError(RuntimeError):
    """A shard could not be opened or read, after the retries."""


def expand_shards(shards: Union[str, Sequence[str]]) -> List[str]:
    """The shard URLs of a brace pattern (``shards-{000000..001023}.tar``), a list of them, or
    a ``pipe:`` command with one, as WebDataset expands them."""
    patterns = [shards] if isinstance(shards, str) else list(shards)
    urls = [url for pattern in patterns for url in braceexpand(pattern)]
    if not urls:
        raise ValueError(f'shards: no shard in {shards!r}')
    repeated = sorted({url for url in urls if urls.count(url) > 1})
    if repeated:
        raise ValueError(f'shards: listed more than once: {repeated[:3]}')
    return urls


def shard_name(url: str) -> str:
    """The file name of a shard, which the index is keyed by (``pipe:`` commands end with
    their output, ``-``: the name is the last word that ends in ``.tar``)."""
    if url.startswith('pipe:'):
        words = [word for word in url[5:].split() if word.endswith('.tar')]
        if not words:
            raise ValueError(f'shards: cannot find the shard name (a word ending in .tar) '
                             f'in {url!r}')
        url = words[-1]
    return posixpath.basename(url.split('?', 1)[0])


def spaceless_pipe_hint(url: str) -> str:
    """What likely went wrong with a ``pipe:`` command without a space."""
    if url.startswith('pipe:') and ' ' not in url[5:].strip():
        return ('. A pipe: command without spaces: was it given with --cfg-options? MMEngine '
                'removes the spaces of its values; set it in a config file')
    return ''


@contextmanager
def open_stream(url: str, timeout: float = 60) -> Iterator[BinaryIO]:
    """A binary stream of ``url``; a ``pipe:`` command that exits with an error raises
    OSError with its last words on stderr."""
    if url.startswith('pipe:'):
        # stderr to a file: a chatty command cannot fill a pipe and stall
        with tempfile.TemporaryFile() as errors:
            process = subprocess.Popen(url[5:], shell=True, stdout=subprocess.PIPE, stderr=errors)
            try:
                yield process.stdout
            except (OSError, EOFError, tarfile.TarError) as error:
                _raise_if_failed(process, errors, timeout=5)  # the command's error says more
                raise error
            except BaseException:  # the reader stopped early: the command is not needed
                process.kill()
                process.wait()
                raise
            finally:
                process.stdout.close()
            _raise_if_failed(process, errors)
    elif url.startswith(('http://', 'https://')):
        with urllib.request.urlopen(url, timeout=timeout) as response:
            yield response
    else:
        with open(url.removeprefix('file:'), 'rb') as file:
            yield file


def _raise_if_failed(process: subprocess.Popen,
                     errors: BinaryIO,
                     timeout: Optional[float] = None) -> None:
    try:
        returncode = process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        returncode = process.wait()
    if returncode > 0:
        errors.seek(0)
        message = errors.read().decode(errors='replace').strip()
        raise OSError(f'the command exited with status {returncode}: {message[-500:]}')


def iter_tar_samples(stream: BinaryIO) -> Iterator[Sample]:
    """``(key, {extension: bytes})`` for each sample of a tar stream, read sequentially. The
    key is the member's path up to the first dot of its file name, as WebDataset's."""
    key, members = None, {}
    with tarfile.open(fileobj=stream, mode='r|*') as tar:
        for info in tar:
            if not info.isfile():
                continue
            folder, name = posixpath.split(info.name)
            stem, dot, extension = name.partition('.')
            if not dot or stem.startswith('__'):
                continue  # no extension, or WebDataset's hidden members
            member_key = posixpath.join(folder, stem)
            if member_key != key and members:
                yield key, members
                members = {}
            key = member_key
            members[extension.lower()] = tar.extractfile(info).read()
    if members:
        yield key, members


def read_shard(url: str,
               skip: int = 0,
               retries: int = 3,
               retry_delay: float = 1.0,
               timeout: float = 60) -> Iterator[Sample]:
    """The samples of one shard after its first ``skip``. A failure to open or read it is
    retried ``retries`` times (waiting ``retry_delay`` seconds, doubling), each time going on
    after the samples already given; then a ShardReadError names the shard."""
    done, attempt = skip, 0
    while True:
        try:
            with open_stream(url, timeout) as stream:
                for position, sample in enumerate(iter_tar_samples(stream)):
                    if position >= done:
                        done += 1
                        yield sample
            return
        except (OSError, EOFError, tarfile.TarError) as error:
            if attempt >= retries:
                raise ShardReadError(
                    f'cannot read shard {url} (tried {attempt + 1} times): '
                    f'{type(error).__name__}: {error}{spaceless_pipe_hint(url)}') from error
            time.sleep(retry_delay * 2**attempt)
            attempt += 1
