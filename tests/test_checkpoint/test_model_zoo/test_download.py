"""Downloads against a loopback server on 127.0.0.1 (no internet): resume, retries, sha256,
404, cache hits and Google Drive's confirm page."""
import hashlib
import os
import subprocess
import sys

import pytest

from simmim_mm.checkpoint.model_zoo.download import (
    CACHE_ENV,
    ChecksumError,
    DownloadError,
    cache_dir,
    download_url,
)

from checkpoint_helpers import checkpoint_files
from loopback_server import LoopbackServer

DATA = os.urandom(3 * (1 << 20) + 12345)  # spans several read chunks
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        srv.files['/ckpt.pth'] = DATA
        yield srv


def fetch(server, tmp_path, path='/ckpt.pth', **kwargs):
    kwargs.setdefault('progress', False)
    kwargs.setdefault('backoff', 0)
    return download_url(server.url + path, str(tmp_path / 'cache' / 'ckpt.pth'), **kwargs)


def test_download_verifies_and_leaves_no_partial_file(server, tmp_path):
    path = fetch(server, tmp_path, sha256=SHA)
    assert open(path, 'rb').read() == DATA
    assert checkpoint_files(tmp_path / 'cache') == ['ckpt.pth']


def test_resume_after_a_cut_connection(server, tmp_path):
    server.cut_once.add('/ckpt.pth')
    path = fetch(server, tmp_path, sha256=SHA[:8])
    assert open(path, 'rb').read() == DATA
    (first, first_range), (second, second_range) = server.requests
    assert first_range is None
    offset = int(second_range[len('bytes='):-1])
    assert 0 < offset < len(DATA) and second_range == f'bytes={offset}-'


def test_resume_of_a_partial_file_from_an_earlier_run(server, tmp_path):
    (tmp_path / 'cache').mkdir()
    (tmp_path / 'cache' / 'ckpt.pth.part').write_bytes(DATA[:1000])
    path = fetch(server, tmp_path, sha256=SHA)
    assert open(path, 'rb').read() == DATA
    assert server.requests == [('/ckpt.pth', 'bytes=1000-')]


def test_checksum_mismatch_is_an_error_and_nothing_is_kept(server, tmp_path):
    with pytest.raises(
            ChecksumError, match=r'ckpt\.pth: sha256 .* does not match the '
            r'published 0{64}'):
        fetch(server, tmp_path, sha256='0' * 64)
    assert checkpoint_files(tmp_path / 'cache') == []


def test_404_is_a_clear_error(server, tmp_path):
    with pytest.raises(DownloadError, match=r'127\.0\.0\.1:\d+/missing\.pth: HTTP 404'):
        fetch(server, tmp_path, path='/missing.pth')
    assert checkpoint_files(tmp_path / 'cache') == []
    assert len(server.requests) == 1  # a 404 is not retried


def test_cache_hit_makes_no_request(server, tmp_path):
    first = fetch(server, tmp_path, sha256=SHA)
    count = len(server.requests)
    assert fetch(server, tmp_path, sha256=SHA) == first
    assert len(server.requests) == count == 1


def test_unreachable_server_gives_up_after_bounded_retries(tmp_path):
    with LoopbackServer() as srv:
        url = srv.url
    with pytest.raises(DownloadError, match='failed after 3 attempts'):
        download_url(
            url + '/x.pth',
            str(tmp_path / 'x.pth'),
            retries=2,
            backoff=0,
            progress=False,
            timeout=5)
    assert not (tmp_path / 'x.pth').exists()


def test_google_drive_confirm_page_is_followed(server, tmp_path):
    server.gdrive['FILEID'] = DATA
    path = fetch(server, tmp_path, path='/uc?export=download&id=FILEID', sha256=SHA)
    assert open(path, 'rb').read() == DATA
    assert [p.split('?')[0] for p, _ in server.requests] == ['/uc', '/download']


def test_html_that_is_not_a_confirm_page_is_an_error(server, tmp_path):
    server.pages['/quota.pth'] = '<html>Too many users have viewed this file</html>'
    with pytest.raises(DownloadError, match='an HTML page, not a checkpoint'):
        fetch(server, tmp_path, path='/quota.pth')
    assert checkpoint_files(tmp_path / 'cache') == []


def test_cache_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / 'elsewhere'))
    assert cache_dir() == str(tmp_path / 'elsewhere')
    monkeypatch.delenv(CACHE_ENV)
    assert cache_dir().endswith(os.path.join('.cache', 'simmim_mm', 'checkpoints'))


def test_concurrent_downloads_of_one_file_take_turns(server, tmp_path):
    """Two processes (two ranks of one job) ask for the same checkpoint at once: one
    downloads it, the other waits and finds it; neither writes into the other's file."""
    server.slow['/ckpt.pth'] = 1.0
    dst = str(tmp_path / 'cache' / 'ckpt.pth')
    code = ('import sys; from simmim_mm.checkpoint.model_zoo.download import download_url; '
            'download_url(sys.argv[1], sys.argv[2], sha256=sys.argv[3], progress=False)')
    ranks = [
        subprocess.Popen([sys.executable, '-c', code, server.url + '/ckpt.pth', dst, SHA])
        for _ in range(2)
    ]
    assert [rank.wait(timeout=120) for rank in ranks] == [0, 0]
    assert open(dst, 'rb').read() == DATA
    assert [request for request in server.requests
            if request[0] == '/ckpt.pth'] == [('/ckpt.pth', None)]  # one transfer, from the start
    assert checkpoint_files(tmp_path / 'cache') == ['ckpt.pth']
