"""tools/gpu_check.sh, as far as it can be checked without a GPU and without a network: its
arguments; `prepare` end to end with a stand-in for pip (the requirements and pins it asks
for, against requirements/ read here independently, and what --node-has leaves out); which
wheels `install` takes (a rule checked case by case, and a dry run on this Python); the
summary table from fake logs; and a `run` that skips what needs a GPU, saying why."""
import importlib.util
import json
import os
import os.path as osp
import re
import stat
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


def script(*args, timeout=60, **env):
    return subprocess.run(['bash', SCRIPT, *args],
                          capture_output=True,
                          text=True,
                          cwd=REPO_ROOT,
                          timeout=timeout,
                          env=dict(os.environ, PYTHON=sys.executable, **env))


@pytest.mark.parametrize('args,message', [
    ([], 'gpu_check.sh prepare DIR'),
    (['bogus'], 'unknown command bogus'),
    (['prepare'], 'prepare needs DIR'),
    (['prepare', 'a', 'b'], 'prepare takes one DIR'),
    (['prepare', 'kit', '--python-version'], '--python-version needs a value'),
    (['prepare', 'kit', '--python-version', '312'], 'must look like 3.12'),
    (['prepare', 'kit', '--platform', 'x'], 'unknown option --platform'),
    (['prepare', 'kit', '--node-has', '/nonexistent/list.txt'], 'no file /nonexistent/list'),
    (['install'], 'install takes DIR'),
    (['install', '/nonexistent/kit'], 'no folder /nonexistent/kit'),
    (['install', 'kit', '--force'], 'install: unknown option --force'),
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
    assert not osp.exists(osp.join(REPO_ROOT, 'kit'))


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


# ---- what the kit is made of, against requirements/ read here ------------------------------


def read_requirements(name):
    path = osp.join(REPO_ROOT, 'requirements', f'{name}.txt')
    lines = [line.split('#', 1)[0].strip() for line in open(path)]
    return [Requirement(line) for line in lines if line]


def canonical(name):
    return re.sub(r'[-_.]+', '-', name).lower()


NODE_OWNS = {'torch', 'torchvision'}  # the GPU machine's CUDA build, never in the kit


def test_the_kit_asks_for_the_requirements_but_the_nodes_torch_and_mmcv():
    expected = [
        str(req) for name in ('runtime', 'downstream', 'tests') for req in read_requirements(name)
        if canonical(req.name) not in NODE_OWNS | {'mmcv'}
    ]
    # and `wheel`: setuptools < 70.1 needs it for the editable install, run without build
    # isolation (offline)
    assert [str(Requirement(line)) for line in gpu_check.kit_requirements()] == \
        expected + ['wheel']
    assert {'mmengine', 'mmpretrain', 'mmdet', 'mmsegmentation'
            } <= {canonical(Requirement(line).name)
                  for line in gpu_check.kit_requirements()}


def test_the_kit_pins_are_constraints_txt():
    pins = {canonical(req.name): str(req.specifier) for req in read_requirements('constraints')}
    kit = {
        canonical(Requirement(line).name): str(Requirement(line).specifier)
        for line in gpu_check.kit_constraints()
    }
    assert kit == {name: pin for name, pin in pins.items() if name not in NODE_OWNS}
    assert all(pin.startswith('==') for pin in kit.values())
    assert gpu_check.mmcv_version() == pins['mmcv'][2:]


FAKE_PYTHON = r"""#!/usr/bin/env bash
# python, but `-m pip` and `-m venv` are recorded and acted out offline
if [ "$1" = -m ] && [ "$2" = venv ]; then
    mkdir -p "$3/bin" && ln -sf "$FAKE_PYTHON" "$3/bin/python"; exit 0
fi
[ "$1" = -m ] && [ "$2" = pip ] || exec "$REAL_PYTHON" "$@"
echo "$*" >> "$FAKE_LOG"
shift 2
verb=$1 dest="" constraints="" names=()
shift
while [ $# -gt 0 ]; do
    case $1 in
        -d|-w) dest=$2; shift 2 ;;
        -c) constraints=$2; shift 2 ;;
        --python-version|--implementation|--abi|--platform|--no-binary) shift 2 ;;
        -*) shift ;;
        *) names+=("$1"); shift ;;
    esac
done
case $verb in
    download)
        for req in "${names[@]}"; do
            name=$(echo "$req" | sed -E 's/[<>=!~;[ ].*//')
            if [ "$name" = mmcv ]; then  # the source archive
                version=${req#mmcv==}
                mkdir -p "$dest/mmcv-$version" && echo x > "$dest/mmcv-$version/setup.py"
                tar -czf "$dest/mmcv-$version.tar.gz" -C "$dest" "mmcv-$version"
                rm -r "$dest/mmcv-$version"
                continue
            fi
            touch "$dest/${name//-/_}-1.0-py3-none-any.whl"
        done
        # dependencies pip would resolve: one the node has, and one it has under another name
        if [ -n "$constraints" ]; then
            touch "$dest/numpy-2.3.0-cp312-cp312-manylinux_2_28_x86_64.whl"
            touch "$dest/opencv_python-4.12.0-cp312-abi3-manylinux_2_28_x86_64.whl"
        fi ;;
    wheel) touch "$dest/mmcv_lite-2.1.0-py3-none-any.whl" ;;
esac
"""


@pytest.fixture
def fake_python(tmp_path):
    path = tmp_path / 'fake_python'
    path.write_text(FAKE_PYTHON)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / 'pip.log'
    return dict(
        PREPARE_PYTHON=str(path),
        FAKE_PYTHON=str(path),
        REAL_PYTHON=sys.executable,
        FAKE_LOG=str(log)), log


def test_prepare_downloads_the_requirements_pinned_by_constraints_txt(tmp_path, fake_python):
    env, log = fake_python
    node_has = tmp_path / 'node.txt'
    node_has.write_text('numpy\nopencv-python-headless==4.11.0\nsetuptools\n'
                        'transformers==5.17.0\n# a comment\n')
    kit = tmp_path / 'kit'
    result = script('prepare', str(kit), '--python-version', '3.12', '--node-has', str(node_has),
                    **env)
    assert result.returncode == 0, result.stderr
    downloads = [
        line.split() for line in log.read_text().splitlines() if line.startswith('-m pip download')
    ]
    main = next(args for args in downloads if '-c' in args)
    # for the GPU machine's Python, wheels only, with dependencies (no --no-deps)
    assert {'--only-binary=:all:', '--python-version', '3.12', 'cp312'} <= set(main)
    assert '--no-deps' not in main
    # the constraints are constraints.txt's pins but torch / torchvision, read independently
    pins = {canonical(r.name): str(r.specifier) for r in read_requirements('constraints')}
    written = [Requirement(line) for line in (kit / 'constraints.txt').read_text().split()]
    assert {
        canonical(r.name): str(r.specifier)
        for r in written
    } == {
        name: pin
        for name, pin in pins.items() if name not in NODE_OWNS
    }
    asked = {canonical(Requirement(arg).name) for arg in main[main.index('-c') + 2:]}
    wanted = {
        canonical(r.name)
        for name in ('runtime', 'downstream', 'tests')
        for r in read_requirements(name)
    }
    assert asked == wanted - NODE_OWNS - {'mmcv'} | {'wheel'}
    # --node-has left out what the node has (numpy, cv2 under another name), not the pinned
    wheels = {gpu_check.wheel_name_version(name)[0] for name in os.listdir(kit / 'wheels')}
    assert not wheels & {'numpy', 'opencv-python'}
    assert {'setuptools', 'transformers', 'mmengine', 'braceexpand'} <= wheels
    # mmcv: the pinned version's source, and a wheel without ops; the build tools apart
    assert os.listdir(kit / 'src') == [f'mmcv-{pins["mmcv"][2:]}.tar.gz']
    assert os.listdir(kit / 'mmcv-lite') == ['mmcv_lite-2.1.0-py3-none-any.whl']
    assert {'setuptools<70', 'wheel', 'ninja'} <= set(
        next(args for args in downloads if '--no-binary' not in args and '-c' not in args))
    assert (kit / 'python-version').read_text().strip() == '3.12'


# ---- which wheels install takes ---------------------------------------------------------------

WHEELS = [
    'kit/wheels/mmengine-0.10.7-py3-none-any.whl', 'kit/wheels/setuptools-80.9.0-py3-none-any.whl',
    'kit/wheels/numpy-2.3.0-cp312-cp312-manylinux_2_28_x86_64.whl',
    'kit/wheels/opencv_python-4.12.0-cp312-abi3-manylinux_2_28_x86_64.whl',
    'kit/wheels/Model_Index-0.1.11-py3-none-any.whl'
]
REQUIREMENTS = ['mmengine>=0.10.4,<1.0', 'setuptools<82', 'numpy', 'model-index']


@pytest.mark.parametrize(
    'installed, expected',
    [
        # a bare Python: every wheel
        ({}, WHEELS),
        # what the Python has within the requirements' range is kept, whatever the kit's version
        (dict(mmengine='0.10.4', numpy='1.26.4', model_index='0.1.11'), [WHEELS[1], WHEELS[3]]),
        # setuptools 82 is outside `setuptools<82`: the kit's replaces it; cv2 under another name
        # is cv2
        (dict(setuptools='82.0.0', opencv_python_headless='4.11.0',
              numpy='2.0.0'), [WHEELS[0], WHEELS[1], WHEELS[4]]),
        # mmengine 0.9 is outside the range: the kit's 0.10.7
        (dict(mmengine='0.9.1', setuptools='80.0.0'), [WHEELS[0], WHEELS[2], WHEELS[3], WHEELS[4]]),
    ])
def test_install_takes_the_wheels_of_what_the_python_lacks(installed, expected):
    installed = {canonical(name): version for name, version in installed.items()}
    to_install, kept = gpu_check.install_plan(WHEELS, installed, REQUIREMENTS)
    assert to_install == sorted(expected)
    assert len(to_install) + len(kept) == len(WHEELS)


def test_a_missing_wheel_is_named():
    wheels = [w for w in WHEELS if 'mmengine' not in w]
    with pytest.raises(
            SystemExit,
            match=r'the kit has no wheel for mmengine<1.0,>=0.10.4 and '
            r'this Python lacks it'):
        gpu_check.install_plan(wheels, {}, REQUIREMENTS)
    # installed outside the range, and the kit's own outside it too
    with pytest.raises(
            SystemExit, match=r'no wheel for setuptools<82 and this Python has '
            r'setuptools 82.0.0'):
        gpu_check.install_plan(
            [WHEELS[0].replace('mmengine', 'setuptools').replace('0.10.7', '82.1.0')],
            dict(setuptools='82.0.0'), ['setuptools<82'])


def test_install_dry_run_on_this_python(tmp_path):
    """This Python has the whole stack: of a kit, only a wheel of what it lacks is taken."""
    kit = tmp_path / 'kit'
    (kit / 'wheels').mkdir(parents=True)
    (kit / 'python-version').write_text('%d.%d\n' % sys.version_info[:2])
    for name in ('mmengine-0.10.7-py3-none-any.whl', 'braceexpand-0.1.7-py3-none-any.whl',
                 'not_installed_here-1.0-py3-none-any.whl'):
        (kit / 'wheels' / name).write_bytes(b'')
    result = script('install', str(kit), '--dry-run')
    assert result.returncode == 0, result.stderr
    assert result.stdout.split('\n') == [
        'would install not_installed_here-1.0-py3-none-any.whl', 'would install simmim_mm', ''
    ]
    assert 'keeps mmengine' in result.stderr and 'keeps braceexpand' in result.stderr


# ---- run and its summary ----------------------------------------------------------------------


def fake_logs(logdir):
    rows = [('a', 'passed', 61, 'CUDA tests (tests/test_cuda)', ''),
            ('b', 'passed', 40, 'demo, 50 it with AMP, then resumed to 60', ''),
            ('c_swin_bf16', 'passed', 35, 'train step Swin-B 192 bf16 vs mmpretrain', ''),
            ('c_vit_bf16', 'passed', 20, 'train step ViT-B 224 bf16', ''),
            ('c_vit_fp16', 'failed', 12, 'train step ViT-B 224 fp16',
             'exit 1: torch.OutOfMemoryError: CUDA out of memory'),
            ('c_compress_vit-base-p16-to-vit-small-p16', 'passed', 70,
             'compress vit-base-p16-to-vit-small-p16, bf16', ''),
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
    result = dict(
        images_per_s=812.4,
        seconds_per_step=[0.16],
        train_flops_per_image=5e10,
        flop_utilization=0.412,
        peak_memory_bytes=30 * 2**30)
    (logdir / 'c_swin_bf16.json').write_text(
        json.dumps(
            dict(
                kind='train',
                batch_size=128,
                precision='bf16',
                results=dict(
                    simmim_mm=result,
                    mmpretrain=dict(result, images_per_s=700.0, flop_utilization=0.355)),
                speedup=812.4 / 700.0,
                check=dict(tolerance=0.2, agrees=True))))
    (logdir / 'c_compress_vit-base-p16-to-vit-small-p16.json').write_text(
        json.dumps(
            dict(
                kind='compress',
                batch_size=64,
                precision='bf16',
                image_size=224,
                results=dict(teacher=dict(images_per_s=900.0), student=dict(images_per_s=3100.0)),
                teacher_over_student=dict(
                    parameters=3.966, flops=3.818, speedup=3.4444, cpu_speedup=3.0))))
    (logdir / 'c_vit_bf16.json').write_text(
        json.dumps(
            dict(  # a GPU without datasheet peak
                kind='train',
                batch_size=128,
                precision='bf16',
                check=dict(tolerance=0.2, agrees=False),
                results=dict(simmim_mm=dict(result, flop_utilization=None)))))


def test_summary_table_from_logs(tmp_path):
    fake_logs(tmp_path)
    text = gpu_check.summary(str(tmp_path))
    assert text == (tmp_path / 'summary.md').read_text()
    table = {
        line.split(' | ')[0].lstrip('| '): line.split(' | ')[1:]
        for line in text.splitlines() if line.startswith('| ') and ' | ' in line
    }
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
    assert table['c_compress_vit-base-p16-to-vit-small-p16 compress vit-base-p16-to-vit-small-'
                 'p16, bf16'][2] == ('batch 64 bf16, 224 px: teacher 900 img/s; student 3100 '
                                     'img/s; 4.0x fewer parameters, 3.8x fewer FLOPs, 3.44x the '
                                     'images/s |')
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
    with pytest.raises(
            SystemExit,
            match='no loss logged at iteration 30; no checkpoint '
            'iter_30.pth; the second run did not resume from iteration 20'):
        gpu_check.check_demo(str(tmp_path), 20, 30)
    (run / 'vis_data' / 'scalars.json').write_text(''.join(
        json.dumps(dict(iter=i, loss=1.0 / i, time=0.1)) + '\n' for i in (10, 20, 30)))
    (run / '20260101_000000.log').write_text('... resumed epoch: 0, iter: 20\n')
    (tmp_path / 'iter_30.pth').write_bytes(b'')
    assert gpu_check.check_demo(
        str(tmp_path), 20,
        30) == ('loss 0.1000 (it 10) -> 0.0500 (it 20) -> 0.0333 (it 30, resumed), 0.100 s/it')


def test_run_without_a_gpu_skips_and_says_why(tmp_path):
    result = script(
        'run', str(tmp_path / 'logs'), '--budget-s', '200', timeout=240, CUDA_VISIBLE_DEVICES='')
    assert result.returncode == 0, result.stdout + result.stderr
    summary = (tmp_path / 'logs' / 'summary.md').read_text()
    assert summary in result.stdout
    assert re.search(
        r'\| a CUDA tests \(tests/test_cuda\) \| skipped \| \d+ \| \d+ skipped '
        r'\(skipped: needs a CUDA GPU', summary)
    for step in ('b demo', 'c benchmarks', 'd Mask R-CNN'):
        assert re.search(rf'\| {step}[^|]*\| skipped \| 0 \| no CUDA GPU', summary), step
    assert not osp.exists(tmp_path / 'logs' / 'mmcv_build.log')  # nothing to build for
