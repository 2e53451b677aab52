"""tools/gpu_check.sh, as far as it can be checked without a GPU and without a network: its
arguments, the kit's package list against the requirements and their dependencies, the
summary table from fake logs, and a `run` that skips what needs a GPU, saying why."""
import importlib.metadata as metadata
import importlib.util
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
from packaging.requirements import Requirement

from conftest import REPO_ROOT

SCRIPT = osp.join(REPO_ROOT, 'tools', 'gpu_check.sh')
spec = importlib.util.spec_from_file_location('gpu_check',
                                              osp.join(REPO_ROOT, 'tools', 'gpu_check.py'))
gpu_check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpu_check)

# the GPU machine's Python, where markers are evaluated
GPU_MACHINE = dict(python_version='3.12', python_full_version='3.12.3', sys_platform='linux',
                   platform_system='Linux', platform_machine='x86_64', extra='')


def script(*args, timeout=60, **env):
    return subprocess.run(['bash', SCRIPT, *args], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=timeout,
                          env=dict(os.environ, PYTHON=sys.executable, **env))


@pytest.mark.parametrize('args,message', [
    ([], 'gpu_check.sh prepare DIR'),
    (['bogus'], 'unknown command bogus'),
    (['prepare'], 'prepare needs DIR'),
    (['prepare', 'a', 'b'], 'prepare takes one DIR'),
    (['prepare', 'kit', '--python-version'], '--python-version needs a value'),
    (['prepare', 'kit', '--python-version', '312'], 'must look like 3.12'),
    (['prepare', 'kit', '--platform', 'x'], 'unknown option --platform'),
    (['install'], 'install takes DIR'),
    (['install', '/nonexistent/kit'], 'no folder /nonexistent/kit'),
    (['run'], 'run needs LOGDIR'),
    (['run', '--smoke'], 'run needs LOGDIR'),
    (['run', 'logs', '--budget-s', 'ten'], '--budget-s needs seconds'),
    (['run', 'logs', '--gpu'], 'unknown option --gpu'),
    (['all', 'kit'], 'all needs DIR and LOGDIR'),
])
def test_arguments_are_checked_before_anything_runs(args, message, tmp_path):
    result = script(*args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert not osp.exists(osp.join(REPO_ROOT, 'logs'))


def test_run_will_not_write_into_a_folder_of_other_files(tmp_path):
    (tmp_path / 'results.json').write_text('{}')
    result = script('run', str(tmp_path))
    assert result.returncode == 2 and 'holds other files' in result.stderr
    assert os.listdir(tmp_path) == ['results.json']


def test_install_refuses_a_folder_that_is_no_kit_or_for_another_python(tmp_path):
    result = script('install', str(tmp_path))
    assert result.returncode == 2 and 'is no kit (run prepare first)' in result.stderr
    (tmp_path / 'python-version').write_text('2.7\n')
    result = script('install', str(tmp_path))
    assert result.returncode == 2
    assert re.search(r'the kit is for Python 2\.7, .* is Python 3\.\d+', result.stderr)


def requirement_lines(name):
    path = osp.join(REPO_ROOT, 'requirements', f'{name}.txt')
    lines = [line.split('#', 1)[0].strip() for line in open(path)]
    return [Requirement(line) for line in lines if line]


def test_kit_covers_every_requirement_the_gpu_machine_lacks():
    kit, has = gpu_check.kit_names(), gpu_check.GPU_MACHINE_HAS
    for name in ('runtime', 'downstream', 'tests'):
        for req in requirement_lines(name):
            key = gpu_check.canonical(req.name)
            if key == 'mmcv':  # built there from the kit's source, or installed without ops
                continue
            assert key in kit or key in has, f'requirements/{name}.txt: {req.name} is missing'
            assert key not in kit or key not in has or key in gpu_check.REPLACES, \
                f'requirements/{name}.txt: {req.name} is on the machine, the kit needs no copy'
    # the OpenMMLab versions are the measured ones
    pins = {gpu_check.canonical(r.name): str(r.specifier) for r in requirement_lines('constraints')}
    for line in gpu_check.KIT:
        req = Requirement(line)
        assert str(req.specifier).startswith('=='), f'{line}: the kit pins exact versions'
        if gpu_check.canonical(req.name) in pins:
            assert str(req.specifier) == pins[gpu_check.canonical(req.name)], line
    assert gpu_check.MMCV_VERSION == pins['mmcv'].lstrip('=')


def test_kit_covers_the_dependencies_of_what_it_installs():
    """Walk the installed metadata from simmim_mm[downstream,tests] (and mmcv, whose wheel
    the kit makes): every dependency the machine lacks is in the kit, and every kit entry is
    needed. The machine's own packages bring their own dependencies."""
    has = gpu_check.GPU_MACHINE_HAS
    kit = gpu_check.kit_names()
    reached, todo = set(), [('simmim_mm', {'', 'downstream', 'tests'}), ('mmcv', {''})]
    while todo:
        dist, extras = todo.pop()
        try:
            requires = metadata.requires(dist) or []
        except metadata.PackageNotFoundError:
            pytest.skip(f'{dist} is not installed here (make setup installs it)')
        for line in requires:
            req = Requirement(line)
            if req.marker and not any(req.marker.evaluate(dict(GPU_MACHINE, extra=extra))
                                      for extra in extras):
                continue
            key = gpu_check.canonical(req.name)
            key = gpu_check.PROVIDED_AS.get(key, key)
            if key in reached or key == 'mmcv' or key in has and key not in kit:
                continue
            assert key in kit, f'{dist} needs {req.name}: neither the kit nor the machine has it'
            reached.add(key)
            todo.append((req.name, {''}))
    assert reached == kit, f'in the kit but needed by nothing: {sorted(kit - reached)}'


def fake_logs(logdir):
    rows = [('a', 'passed', 61, 'CUDA tests (tests/test_cuda)', ''),
            ('b', 'passed', 40, 'demo, 50 it with AMP, then resumed to 60', ''),
            ('c_swin_bf16', 'passed', 35, 'train step Swin-B 192 bf16 vs mmpretrain', ''),
            ('c_vit_bf16', 'passed', 20, 'train step ViT-B 224 bf16', ''),
            ('c_vit_fp16', 'failed', 12, 'train step ViT-B 224 fp16',
             'exit 1: torch.OutOfMemoryError: CUDA out of memory'),
            ('mmcv', 'not finished', 400, 'ops build, in the background', 'stopped'),
            ('d', 'not run', 0, 'Mask R-CNN and UperNet configs',
             "needs mmcv's compiled ops: mmcv's ops build had not finished after 400 s")]
    (logdir / 'steps.tsv').write_text(''.join('\t'.join(map(str, r)) + '\n' for r in rows))
    (logdir / 'environment.txt').write_text('GPU: NVIDIA H100 80GB HBM3; 16 CPUs\n')
    (logdir / 'a.xml').write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="t" name="test_parity[swin]"/>'
        '<testcase classname="t" name="test_amp"><failure message="boom"/></testcase>'
        '<testcase classname="t" name="test_bf16"><skipped message="this GPU has no bf16"/>'
        '</testcase></testsuite></testsuites>')
    (logdir / 'b.detail').write_text('loss 0.9 (it 10) -> 0.5 (it 50) -> 0.45 (it 60)\n')
    result = dict(images_per_s=812.4, seconds_per_step=[0.16], train_flops_per_image=5e10,
                  flop_utilization=0.412, peak_memory_bytes=30 * 2**30)
    (logdir / 'c_swin_bf16.json').write_text(json.dumps(dict(
        kind='train', batch_size=128, precision='bf16',
        results=dict(simmim_mm=result, mmpretrain=dict(result, images_per_s=700.0,
                                                       flop_utilization=0.355)),
        speedup=812.4 / 700.0, check=dict(tolerance=0.2, agrees=True))))
    (logdir / 'c_vit_bf16.json').write_text(json.dumps(dict(  # a GPU without datasheet peak
        kind='train', batch_size=128, precision='bf16', check=dict(tolerance=0.2, agrees=False),
        results=dict(simmim_mm=dict(result, flop_utilization=None)))))


def test_summary_table_from_logs(tmp_path):
    fake_logs(tmp_path)
    text = gpu_check.summary(str(tmp_path))
    assert text == (tmp_path / 'summary.md').read_text()
    table = {line.split(' | ')[0].lstrip('| '): line.split(' | ')[1:]
             for line in text.splitlines() if line.startswith('| ') and ' | ' in line}
    assert '- GPU: NVIDIA H100 80GB HBM3; 16 CPUs' in text
    assert table['a CUDA tests (tests/test_cuda)'][:2] == ['passed', '61']
    assert '1 passed, 1 failed, 1 skipped (failed: test_amp) (skipped: this GPU has no bf16)' \
        in table['a CUDA tests (tests/test_cuda)'][2]
    assert '-> 0.45 (it 60)' in table['b demo, 50 it with AMP, then resumed to 60'][2]
    swin = table['c_swin_bf16 train step Swin-B 192 bf16 vs mmpretrain'][2]
    assert 'batch 128 bf16: simmim_mm 812.4 img/s, 41% FLOP util., 30.0 GiB' in swin
    assert 'mmpretrain 700 img/s, 36% FLOP util.' in swin and '1.16x' in swin
    assert 'standalone loop agrees' in swin
    assert table['c_vit_bf16 train step ViT-B 224 bf16'][2] == (
        'batch 128 bf16: simmim_mm 812.4 img/s, 30.0 GiB; '
        'standalone loop DISAGREES by more than 20% |')
    assert 'CUDA out of memory' in table['c_vit_fp16 train step ViT-B 224 fp16'][2]
    assert table['d Mask R-CNN and UperNet configs'][0] == 'not run'
    assert 'had not finished after 400 s' in table['d Mask R-CNN and UperNet configs'][2]
    assert text.rstrip().splitlines()[-1].startswith('FAILED: c_vit_fp16; logs in ')


def test_a_run_of_only_skipped_tests_is_reported_as_skipped(tmp_path):
    (tmp_path / 'steps.tsv').write_text('a\tpassed\t5\tCUDA tests\t\n')
    (tmp_path / 'a.xml').write_text(
        '<testsuite><testcase name="x"><skipped message="needs a CUDA GPU"/></testcase>'
        '</testsuite>')
    text = gpu_check.summary(str(tmp_path))
    assert '| a CUDA tests | skipped | 5 | 1 skipped (skipped: needs a CUDA GPU) |' in text
    assert 'no step failed' in text


def test_demo_check_needs_both_runs_and_the_resume(tmp_path):
    run = tmp_path / '20260101_000000'
    (run / 'vis_data').mkdir(parents=True)
    (run / 'vis_data' / 'scalars.json').write_text(''.join(
        json.dumps(dict(iter=i, loss=1.0 / i, time=0.1)) + '\n' for i in (10, 20)))
    with pytest.raises(SystemExit, match='no loss logged at iteration 30; no checkpoint '
                       'iter_30.pth; the second run did not resume from iteration 20'):
        gpu_check.check_demo(str(tmp_path), 20, 30)
    (run / 'vis_data' / 'scalars.json').write_text(''.join(
        json.dumps(dict(iter=i, loss=1.0 / i, time=0.1)) + '\n' for i in (10, 20, 30)))
    (run / '20260101_000000.log').write_text('... resumed epoch: 0, iter: 20\n')
    (tmp_path / 'iter_30.pth').write_bytes(b'')
    assert gpu_check.check_demo(str(tmp_path), 20, 30) == (
        'loss 0.1000 (it 10) -> 0.0500 (it 20) -> 0.0333 (it 30, resumed), 0.100 s/it')


def test_run_without_a_gpu_skips_and_says_why(tmp_path):
    result = script('run', str(tmp_path / 'logs'), '--budget-s', '200', timeout=240,
                    CUDA_VISIBLE_DEVICES='')
    assert result.returncode == 0, result.stdout + result.stderr
    summary = (tmp_path / 'logs' / 'summary.md').read_text()
    assert summary in result.stdout
    assert re.search(r'\| a CUDA tests \(tests/test_cuda\) \| skipped \| \d+ \| \d+ skipped '
                     r'\(skipped: needs a CUDA GPU', summary)
    for step in ('b demo', 'c benchmarks', 'd Mask R-CNN'):
        assert re.search(rf'\| {step}[^|]*\| skipped \| 0 \| no CUDA GPU', summary), step
    assert not osp.exists(tmp_path / 'logs' / 'mmcv_build.log')  # nothing to build for
