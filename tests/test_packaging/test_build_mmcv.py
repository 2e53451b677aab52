"""tools/build_mmcv.sh decides CPU or CUDA kernels from the interpreter it builds for, and the
cache key says which, so a CPU wheel is never reused on a GPU node."""
import os
import os.path as osp
import subprocess
import sys

import pytest

from conftest import REPO_ROOT

# Makes the interpreter's torch look like a CUDA 13.0 build on a node with two H100s.
FAKE_CUDA_TORCH = """
import torch
torch.version.cuda = '13.0'
torch.cuda.is_available = lambda: True
torch.cuda.device_count = lambda: 2
torch.cuda.get_device_capability = lambda index=0: (9, 0)
"""


def decide(tmp_path, fake_cuda, with_nvcc, **env):
    """The wheel folder build_mmcv.sh --dry-run picks, and its log."""
    site = tmp_path / 'site'
    site.mkdir(exist_ok=True)
    if fake_cuda:
        (site / 'sitecustomize.py').write_text(FAKE_CUDA_TORCH)
    cuda_home = tmp_path / 'cuda'
    (cuda_home / 'bin').mkdir(parents=True, exist_ok=True)
    nvcc = cuda_home / 'bin' / 'nvcc'
    nvcc.write_text('#!/bin/sh\necho fake nvcc\n')
    nvcc.chmod(0o755)
    environment = dict(
        os.environ,
        PYTHON=sys.executable,
        PYTHONPATH=str(site),
        SIMMIM_MM_CACHE=str(tmp_path / 'cache'),
        PATH='/usr/bin:/bin',
        **env)
    environment.pop('TORCH_CUDA_ARCH_LIST', None)
    environment.pop('CUDA_HOME', None)
    if with_nvcc:
        environment['CUDA_HOME'] = str(cuda_home)
    environment.update(env)
    result = subprocess.run(
        ['bash', osp.join(REPO_ROOT, 'tools', 'build_mmcv.sh'), '--dry-run'],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120)
    assert result.returncode == 0, result.stderr
    return osp.basename(result.stdout.strip().splitlines()[-1]), result.stderr


def test_cpu_torch_builds_cpu_ops(tmp_path):
    import torch
    if torch.version.cuda is None:
        name, log = decide(tmp_path, fake_cuda=False, with_nvcc=True)
        assert 'is a CPU build' in log
    else:  # a CUDA torch without a visible GPU (this test hides them) and no arch list
        name, log = decide(tmp_path, fake_cuda=False, with_nvcc=True)
        assert 'no GPU visible' in log
    version = torch.__version__.split('+')[0]
    py = f'cp{sys.version_info.major}{sys.version_info.minor}'
    assert name == f'mmcv-2.1.0-torch{version}-cpu-{py}'


def test_cuda_torch_with_nvcc_and_gpus_builds_cuda_ops_for_their_arch(tmp_path):
    name, log = decide(tmp_path, fake_cuda=True, with_nvcc=True)
    assert '-cu130-sm90-' in name and '-cpu-' not in name
    assert 'CUDA ops for CUDA 13.0, archs 9.0' in log


def test_arch_list_can_be_overridden(tmp_path):
    name, _ = decide(tmp_path, fake_cuda=True, with_nvcc=True, TORCH_CUDA_ARCH_LIST='8.0;9.0')
    assert '-cu130-sm80_90-' in name


def test_no_nvcc_means_cpu_ops_and_says_why(tmp_path):
    name, log = decide(tmp_path, fake_cuda=True, with_nvcc=False)
    assert '-cpu-' in name and 'no nvcc' in log


@pytest.mark.parametrize('force,expected', [('0', '-cpu-'), ('1', '-cu130-sm90-')])
def test_mmcv_cuda_forces_the_choice(tmp_path, force, expected):
    name, _ = decide(tmp_path, fake_cuda=True, with_nvcc=True, MMCV_CUDA=force)
    assert expected in name


def test_mmcv_cuda_1_fails_when_cuda_ops_cannot_be_built(tmp_path):
    environment = dict(
        os.environ,
        PYTHON=sys.executable,
        MMCV_CUDA='1',
        PATH='/usr/bin:/bin',
        SIMMIM_MM_CACHE=str(tmp_path))
    environment.pop('CUDA_HOME', None)
    result = subprocess.run(
        ['bash', osp.join(REPO_ROOT, 'tools', 'build_mmcv.sh'), '--dry-run'],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment)
    assert result.returncode != 0 and 'MMCV_CUDA=1 but CUDA ops cannot be built' in result.stderr


def test_without_ops_has_its_own_cache_key(tmp_path):
    """make demo's mmcv (no compiled ops) is never taken for the one with ops."""
    name, log = decide(tmp_path, fake_cuda=True, with_nvcc=True, MMCV_WITH_OPS='0')
    assert '-noops-' in name and 'MMCV_WITH_OPS=0' in log
