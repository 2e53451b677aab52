"""``import simmim_mm`` changes the process exactly as simmim_mm/compat/__init__.py lists:
state compared before and after the import, in a fresh interpreter."""
import json
import subprocess
import sys

import pytest

from simmim_mm.compat.transformers import FIRST_INCOMPATIBLE, transformers_version

# Imports first what simmim_mm's import imports of upstream (so that their own effects are not
# counted), snapshots, imports simmim_mm, snapshots again, and looks for simmim_mm functions
# or classes set on upstream modules or classes.
SCRIPT = r'''
import importlib, json, multiprocessing, os, signal, sys, warnings
for name in json.loads(sys.stdin.read()):
    try:
        importlib.import_module(name)
    except Exception:
        pass
import torch
from mmengine import registry as mmengine_registry
from mmengine.config.utils import MODULE2PACKAGE
from mmengine.registry import DefaultScope, Registry

ROOTS = [r for r in vars(mmengine_registry).values() if isinstance(r, Registry)]
SIGNALS = ('SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGCHLD', 'SIGPIPE')


def registered(registry):
    entries = [[registry.scope, registry.name, key, getattr(obj, '__module__', '')]
               for key, obj in registry.module_dict.items()]
    for child in registry.children.values():
        entries += registered(child)
    return entries


def snapshot():
    return dict(
        warnings_filters=[repr(f) for f in warnings.filters],
        safe_globals=[repr(g) for g in torch.serialization.get_safe_globals()],
        module2package=dict(MODULE2PACKAGE),
        environ=dict(os.environ),
        signals={s: repr(signal.getsignal(getattr(signal, s))) for s in SIGNALS},
        torch=[torch.get_num_threads(), str(torch.get_default_dtype()),
               torch.get_float32_matmul_precision(), torch.backends.cudnn.benchmark,
               torch.are_deterministic_algorithms_enabled(), torch.is_grad_enabled()],
        default_scope=repr(DefaultScope.get_current_instance()),
        start_method=multiprocessing.get_start_method(allow_none=True),
        sys_path=list(sys.path),
        registered=sorted(e for root in ROOTS for e in registered(root)))


def ours(value):
    try:
        return (callable(value)
                and str(getattr(value, '__module__', '') or '').startswith('simmim_mm'))
    except Exception:
        return False


def patched():
    found = []
    for name, module in list(sys.modules.items()):
        if name.startswith('simmim_mm') or not hasattr(module, '__dict__'):
            continue
        for attr, value in list(vars(module).items()):
            if ours(value):
                found.append(f'{name}.{attr}')
            elif isinstance(value, type) and value.__module__ == name:
                found += [f'{name}.{attr}.{k}' for k, v in vars(value).items() if ours(v)]
    return found


before = snapshot()
import simmim_mm
print(json.dumps(dict(before=before, after=snapshot(), patched=patched())))
'''


def python(*args, stdin=None):
    result = subprocess.run([sys.executable, *args],
                            capture_output=True,
                            text=True,
                            input=stdin,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope='module')
def effects():
    loaded = json.loads(
        python(
            '-c', 'import json, sys, simmim_mm\nprint(json.dumps(sorted('
            'n for n in sys.modules if not n.startswith("simmim_mm"))))'))
    return json.loads(python('-c', SCRIPT, stdin=json.dumps(loaded)).splitlines()[-1])


pytestmark = pytest.mark.skipif(
    (transformers_version() or (0, )) >= FIRST_INCOMPATIBLE,
    reason='mmpretrain.models cannot be imported before simmim_mm here: '
    'test_transformers.py checks that import')


def changed(effects, key):
    before, after = effects['before'][key], effects['after'][key]
    if isinstance(before, dict):
        return {k: after.get(k) for k in set(before) | set(after) if before.get(k) != after.get(k)}
    return [item for item in after if item not in before]


def test_warnings_filter(effects):
    new = changed(effects, 'warnings_filters')
    assert len(new) == 1 and 'There is not `Config` define in' in new[0]
    assert new[0].startswith("('ignore'") and "re.compile('mmengine.config.utils')" in new[0]


def test_torch_safe_globals(effects):
    new = changed(effects, 'safe_globals')
    names = ('HistoryBuffer', '_reconstruct', 'scalar', 'ndarray', 'dtype', 'Float64DType',
             'Float32DType', 'Int64DType', 'history_buffer_method')
    assert len(new) == 10  # history_buffer_method twice: builtins and __builtin__ getattr
    assert all(any(name in entry for name in names) for entry in new)


def test_module2package(effects):
    assert changed(effects, 'module2package') == {'simmim_mm': 'simmim_mm.package_files'}


def test_registrations_outside_our_scope(effects):
    new = [(scope, key) for scope, _, key, module in changed(effects, 'registered')
           if scope != 'simmim_mm' and module.startswith('simmim_mm')]
    installed = [
        scope for scope in ('mmdet', 'mmseg')
        if python('-c', f'import importlib.util; print(importlib.util.find_spec("{scope}"))').strip(
        ) != 'None'
    ]
    assert sorted(new) == sorted([('mmengine', 'encoder_block_wrap_policy')] +
                                 [(scope, 'BackboneLayerDecayOptimWrapperConstructor')
                                  for scope in installed])


def test_nothing_else(effects):
    for key in ('environ', 'signals', 'torch', 'default_scope', 'start_method', 'sys_path'):
        assert effects['before'][key] == effects['after'][key], key
    assert effects['patched'] == []
