"""`pip install simmim_mm` keeps the user's own torch: what the package asks for are ranges,
and the exact versions live only in requirements/constraints.txt (make setup's .venv)."""
import os.path as osp
import re
import sys
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from conftest import REPO_ROOT


def requirements(name):
    lines = open(osp.join(REPO_ROOT, 'requirements', f'{name}.txt')).read().splitlines()
    return [
        Requirement(line.split('#', 1)[0].strip()) for line in lines
        if line.split('#', 1)[0].strip()
    ]


@pytest.mark.parametrize('name', ['runtime', 'downstream', 'tests'])
def test_package_requirements_are_ranges(name):
    for req in requirements(name):
        assert not any(spec.operator in ('==', '===') for spec in req.specifier), req


def test_setup_py_installs_those_ranges():
    setup_py = open(osp.join(REPO_ROOT, 'setup.py')).read()
    assert "install_requires=parse_requirements('runtime')" in setup_py
    assert 'torch.txt' not in setup_py and 'constraints' not in setup_py


def test_oldest_torch_allowed_has_what_the_code_uses():
    """torch >= 2.6: add_safe_globals with (callable, name) pairs and safe_globals."""
    torch_req = next(r for r in requirements('runtime') if r.name == 'torch')
    assert Version('2.5.1') not in torch_req.specifier
    assert Version('2.6.0') in torch_req.specifier
    assert Version('2.14.1') in torch_req.specifier and Version('3.0') in torch_req.specifier


@pytest.mark.parametrize('name', ['runtime', 'downstream', 'tests'])
def test_this_environment_satisfies_the_ranges(name):
    for req in requirements(name):
        version = metadata.version(req.name)
        assert req.specifier.contains(version, prereleases=True), (req, version)


@pytest.mark.skipif(
    osp.realpath(sys.prefix) != osp.realpath(osp.join(REPO_ROOT, '.venv')),
    reason="checks make setup's .venv; this is another environment (its own versions)")
def test_constraints_pin_exactly_what_is_installed():
    """The .venv is the measured stack: every constraint is an exact pin and holds here."""
    for req in requirements('constraints'):
        (spec, ) = req.specifier
        assert spec.operator == '==', req
        assert metadata.version(req.name).split('+')[0] == spec.version, req


def test_python_requires_is_what_torch_needs():
    setup_py = open(osp.join(REPO_ROOT, 'setup.py')).read()
    assert re.search(r"python_requires='>=3\.9'", setup_py)
