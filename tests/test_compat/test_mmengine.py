"""Each test here fails once MMEngine 0.10.7's behaviour that a workaround in
simmim_mm/compat/mmengine.py (or simmim_mm/registry.py) exists for is gone: then drop it."""
import glob
import json
import os.path as osp
import subprocess
import sys
import warnings

import pytest
from mmengine.config import Config
from mmengine.config.utils import MODULE2PACKAGE
from mmengine.registry import Registry

from simmim_mm.compat.mmengine import quiet_model_index_warnings
from simmim_mm.package_files import CONFIG_DIR
from simmim_mm.registry import ChildRegistry


def write_config(folder, base):
    path = osp.join(folder, 'user_config.py')
    with open(path, 'w') as f:
        f.write(f'_base_ = {base!r}\n')
    return path


def test_mmengine_still_refuses_packages_outside_its_table(tmp_path, monkeypatch):
    """If this fails, MMEngine resolves any installed package's `pkg::` configs and
    register_config_package can go."""
    monkeypatch.delitem(MODULE2PACKAGE, 'simmim_mm')
    with pytest.raises(AssertionError, match='does not support to load simmim_mm config'):
        Config.fromfile(write_config(tmp_path, 'simmim_mm::pretrain/any.py'))


# run outside the checkout, whose own simmim_mm.egg-info would be found first
WHERE_MMENGINE_LOOKS = """
import importlib.util, json, os.path as osp, warnings
from importlib import metadata
warnings.simplefilter('ignore')
from mmengine.utils import get_installed_path
direct_url = metadata.distribution('simmim_mm').read_text('direct_url.json') or '{}'
print(json.dumps([json.loads(direct_url).get('dir_info', {}).get('editable', False),
                  get_installed_path('simmim_mm'),
                  osp.dirname(importlib.util.find_spec('simmim_mm').origin)]))
"""


def test_mmengine_still_misplaces_an_editable_install(tmp_path):
    """If this fails, MMEngine finds an editable install's folder by the distribution name,
    and register_config_package may name the distribution instead of a module."""
    result = subprocess.run([sys.executable, '-c', WHERE_MMENGINE_LOOKS],
                            cwd=tmp_path,
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    editable, mmengine_path, package_path = json.loads(result.stdout)
    if not editable:
        pytest.skip('simmim_mm is not an editable install here')
    assert mmengine_path != package_path


def test_simmim_mm_configs_resolve_as_bases(tmp_path):
    path = sorted(p for p in glob.glob(osp.join(CONFIG_DIR, '*', '*.py')) if '_base_' not in p)[0]
    base = 'simmim_mm::' + osp.relpath(path, CONFIG_DIR)
    cfg = Config.fromfile(write_config(tmp_path, base))
    assert cfg.model.type == Config.fromfile(path).model.type


@pytest.fixture
def package_with_uncovered_checkpoint(tmp_path, monkeypatch):
    """A package whose model index lists a checkpoint with no `Config`, as ours does."""
    mim = tmp_path / 'compat_fake_pkg' / '.mim'
    (mim / 'configs' / 'demo').mkdir(parents=True)
    (tmp_path / 'compat_fake_pkg' / '__init__.py').write_text('')
    (mim / 'configs' / 'demo' / 'base.py').write_text('value = 1\n')
    (mim / 'model-index.yml').write_text('Import:\n  - metafile.yml\n')
    (mim / 'metafile.yml').write_text('Models:\n  - Name: weights-only\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(MODULE2PACKAGE, 'compat_fake_pkg', 'compat_fake_pkg')
    yield write_config(tmp_path, 'compat_fake_pkg::demo/base.py')
    sys.modules.pop('compat_fake_pkg', None)


def test_mmengine_still_warns_about_checkpoints_without_config(package_with_uncovered_checkpoint):
    """If this fails, MMEngine no longer warns for such model-index entries and
    quiet_model_index_warnings can go."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter('always')
        assert Config.fromfile(package_with_uncovered_checkpoint).value == 1
    assert any('There is not `Config` define in' in str(w.message) for w in caught)


def test_quiet_model_index_warnings_drops_only_that_warning(package_with_uncovered_checkpoint):
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter('always')
        quiet_model_index_warnings()
        Config.fromfile(package_with_uncovered_checkpoint)
        warnings.warn('There is not `Config` define in (from elsewhere)', UserWarning, stacklevel=1)
    assert [str(w.message) for w in caught if 'Config` define' in str(w.message)
            ] == ['There is not `Config` define in (from elsewhere)']


@pytest.fixture
def parent_with_lazy_location(tmp_path, monkeypatch):
    (tmp_path / 'compat_lazy_location.py').write_text(
        'import compat_registries\n'
        '@compat_registries.PARENT.register_module()\n'
        'class Thing:\n'
        '    pass\n')
    holder = type(sys)('compat_registries')
    holder.PARENT = Registry('thing', scope='compat_parent', locations=['compat_lazy_location'])
    monkeypatch.setitem(sys.modules, 'compat_registries', holder)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield holder.PARENT
    sys.modules.pop('compat_lazy_location', None)


def test_mmengine_child_registry_still_skips_parent_locations(parent_with_lazy_location):
    """If this fails, MMEngine imports a parent's locations on a child's lookup and
    simmim_mm.registry.ChildRegistry can go."""
    child = Registry('thing', parent=parent_with_lazy_location, scope='compat_child')
    assert child.get('Thing') is None
    assert 'compat_lazy_location' not in sys.modules


def test_child_registry_imports_parent_locations(parent_with_lazy_location):
    child = ChildRegistry(
        'thing', parent=parent_with_lazy_location, scope='compat_child', locations=['json'])
    assert child.get('Thing').__module__ == 'compat_lazy_location'


def test_mmengine_still_cannot_resolve_our_scope_from_mmdet():
    """If this fails, MMEngine resolves `simmim_mm.X` from any scope: mmdet / mmseg configs
    can name the constructor so, and register_in_other_scopes can go."""
    mmdet_registry = pytest.importorskip('mmdet.registry')
    from simmim_mm.registry import OPTIM_WRAPPER_CONSTRUCTORS
    name = 'BackboneLayerDecayOptimWrapperConstructor'
    assert OPTIM_WRAPPER_CONSTRUCTORS.get(name) is not None
    assert mmdet_registry.OPTIM_WRAPPER_CONSTRUCTORS.get(f'simmim_mm.{name}') is None
    # what register_in_other_scopes does instead
    assert (mmdet_registry.OPTIM_WRAPPER_CONSTRUCTORS.get(name)
            is OPTIM_WRAPPER_CONSTRUCTORS.get(name))


def test_mmengine_fsdp_still_looks_policies_up_in_the_root_registry_only():
    """If this fails, MMEngine's FSDP wrapper finds an ``auto_wrap_policy`` registered in a
    child scope's FUNCTIONS: encoder_block_wrap_policy (engine/fsdp_wrap_policy.py) can then
    move from MMEngine's root FUNCTIONS into simmim_mm's own registry."""
    import inspect

    from mmengine.model.wrappers import MMFullyShardedDataParallel
    from mmengine.registry import FUNCTIONS
    source = inspect.getsource(MMFullyShardedDataParallel.__init__)
    assert 'FUNCTIONS.switch_scope_and_registry(None)' in source
    child = Registry('function', parent=FUNCTIONS, scope='compat_fsdp_test')
    child.register_module(name='child_only_policy', module=lambda *args: False)
    with FUNCTIONS.switch_scope_and_registry(None) as registry:
        assert registry.get('child_only_policy') is None
        assert registry.get('encoder_block_wrap_policy') is not None
