"""Helpers of tools/gpu_check.sh: what the kit holds, the demo check and the summary table.

    python tools/gpu_check.py kit            # requirements installed from the kit (--no-deps)
    python tools/gpu_check.py build-tools    # what tools/build_mmcv.sh's build venv installs
    python tools/gpu_check.py check-demo WORK_DIR ITERS RESUMED_ITERS
    python tools/gpu_check.py downstream WORK_DIR SIMMIM_CHECKPOINT
    python tools/gpu_check.py summary LOGDIR # prints the table, writes LOGDIR/summary.md

Standard library only at import: `kit` runs on whatever networked machine prepares the kit.
"""
import glob
import json
import math
import os.path as osp
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

# What the GPU machine lacks, for its Python (3.12): the OpenMMLab stack at the versions of
# requirements/constraints.txt and every dependency of it, of simmim_mm and of its extras
# that is not in GPU_MACHINE_HAS, pinned to versions resolved for Python 3.12 (2026-11).
# Installed with --no-deps, so pip can never replace what the machine has (its CUDA torch).
# mmcv is not here: the kit carries its source and a wheel built without ops (see prepare).
KIT = [
    'mmengine==0.10.7', 'mmpretrain==1.2.0', 'mmdet==3.3.0', 'mmsegmentation==1.2.2',
    # mmengine / mmcv
    'addict==2.4.0', 'termcolor==3.3.0', 'yapf==0.43.0', 'platformdirs==4.14.8',
    # mmpretrain
    'importlib-metadata==10.2.0', 'lazy-importer==0.1.0', 'mat4py==0.6.0',
    'modelindex==0.0.2', 'model-index==0.1.11', 'ordered-set==4.1.0',
    # mmdet
    'pycocotools==2.0.11', 'shapely==2.2.0', 'terminaltables==3.1.10',
    # mmsegmentation (ftfy is what it imports without declaring it, requirements/downstream)
    'prettytable==3.18.0', 'wcwidth==0.9.4', 'ftfy==6.3.1',
    # simmim_mm (shard patterns)
    'braceexpand==0.1.7',
    # tests (requirements/tests.txt)
    'yacs==0.1.8',
    # the machine has setuptools, maybe >= 82, which dropped the pkg_resources that mmengine
    # resolves `mmdet::` / `mmseg::` config bases with (requirements/runtime.txt): replaced
    'setuptools==80.9.0',
]
# Packages of the kit that the machine has too, at a version our requirements may exclude.
REPLACES = {'setuptools'}
# tools/build_mmcv.sh's throw-away build venv installs these (offline: from the kit); they
# are downloaded with their own dependencies and never installed into the machine's Python.
BUILD_TOOLS = ['setuptools<70', 'wheel', 'ninja']
MMCV_VERSION = '2.1.0'

# The GPU machine's preinstalled packages (.library/device/KINDS.md, 'Python packages
# already there', read 2026-11-17): nothing of these goes into the kit.
GPU_MACHINE_HAS = set("""
absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs
botorch build certifi charset-normalizer chex click cloudpickle cmake colorama contourpy
coverage cuda-bindings cuda-core cuda-pathfinder cuda-toolkit cupy-cuda13x cycler cython
diffrax e3nn einops equinox etils execnet filelock flatbuffers flax fonttools formulaic
frozenlist fsspec gpytorch grpcio h11 h5py hf-xet httpcore httpx huggingface-hub humanize
hypothesis idna imageio iniconfig interface-meta jax jax-cuda13-pjrt jax-cuda13-plugin jaxlib
jaxtyping jinja2 joblib kiwisolver lazy-loader lightning lightning-utilities linear-operator
lineax llvmlite lxml markdown markdown-it-py markupsafe matplotlib mdurl meson ml-dtypes
mpi4py mpmath msgpack multidict multipledispatch mypy-extensions nanobind narwhals networkx
ninja numba numba-cuda numpy numpyro nvidia-cublas nvidia-cuda-cupti nvidia-cuda-nvrtc
nvidia-cuda-runtime nvidia-cudnn-cu13 nvidia-cufft nvidia-cufile nvidia-curand nvidia-cusolver
nvidia-cusparse nvidia-cusparselt-cu13 nvidia-ml-py nvidia-nccl-cu13 nvidia-nvjitlink
nvidia-nvshmem-cu13 nvidia-nvtx onnx onnx-ir onnxruntime onnxscript opencv-python-headless
optax opt-einsum opt-einsum-fx optimistix orbax-checkpoint packaging pandas pathspec patsy
peft pillow pip pluggy portalocker prometheus-client propcache protobuf psutil pyarrow
pybind11 py-cpuinfo pygments pyparsing pyproject-hooks pyre-extensions pytest
pytest-benchmark pytest-cov pytest-mock pytest-timeout pytest-xdist python-dateutil
pytorch-lightning pyyaml regex requests rich sacrebleu safetensors scikit-build-core
scikit-image scikit-learn scipy seaborn sentencepiece sentence-transformers setuptools
shellingham simplejson six sortedcontainers statsmodels sympy tabulate tensorboard
tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm tokenizers toolz
torch torchaudio torchdiffeq torch-geometric torchmetrics torchvision tqdm transformers
treescope triton typer typing-extensions typing-inspect urllib3 uvloop wadler-lindig
werkzeug wheel wrapt xarray xxhash yarl zipp
""".split())
# Requirements that the machine meets under another name: mmengine and mmcv ask for
# opencv-python, whose cv2 the headless build provides.
PROVIDED_AS = {'opencv-python': 'opencv-python-headless'}


def canonical(name: str) -> str:
    return re.sub(r'[-_.]+', '-', name).lower()


def kit_names() -> set:
    return {canonical(re.split(r'[<>=!~;\[ ]', line)[0]) for line in KIT}


# ---------------------------------------------------------------------------- demo check

def scalars(work_dir: str) -> dict:
    """{iter: record} from every run's vis_data/scalars.json under work_dir."""
    records = {}
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        for line in open(path):
            record = json.loads(line)
            if 'loss' in record:
                records[record['iter']] = record
    return records


def check_demo(work_dir: str, iters: int, resumed_iters: int) -> str:
    """What (b) must show: losses logged at both ends, all finite, the second run resumed
    from the first one's last checkpoint and saved its own. Raises SystemExit otherwise."""
    records = scalars(work_dir)
    problems = []
    for end in (iters, resumed_iters):
        if end not in records:
            problems.append(f'no loss logged at iteration {end}')
    if not osp.isfile(osp.join(work_dir, f'iter_{resumed_iters}.pth')):
        problems.append(f'no checkpoint iter_{resumed_iters}.pth')
    bad = [i for i, r in records.items() if not math.isfinite(r['loss'])]
    if bad:
        problems.append(f'non-finite loss at iterations {bad}')
    logs = ''.join(open(p).read() for p in glob.glob(osp.join(work_dir, '*', '*.log')))
    if f'resumed epoch: 0, iter: {iters}' not in logs:
        problems.append(f'the second run did not resume from iteration {iters}')
    if problems:
        sys.exit('demo check failed: ' + '; '.join(problems))
    first, last = records[min(records)], records[resumed_iters]
    speed = [r['time'] for i, r in records.items() if 'time' in r and i > min(records)]
    speed = f', {sum(speed) / len(speed):.3f} s/it' if speed else ''
    return (f"loss {first['loss']:.4f} (it {min(records)}) -> {records[iters]['loss']:.4f} "
            f"(it {iters}) -> {last['loss']:.4f} (it {resumed_iters}, resumed){speed}")


# ---------------------------------------------------------------------------- downstream

def downstream(work_dir: str, checkpoint: str) -> str:
    """(d): the Mask R-CNN and UperNet configs for 2 iterations and an evaluation each, from
    a SimMIM checkpoint of the demo's Swin, on tiny generated COCO / ADE20K folders. The data
    and config overrides are tests/test_tools/test_transfer_e2e.py's own; unlike that test
    (which tests/conftest.py keeps on the CPU), this trains on the GPU when there is one."""
    repo = osp.dirname(osp.dirname(osp.abspath(__file__)))
    sys.path[:0] = [osp.join(repo, 'tests'), osp.join(repo, 'tests', 'test_tools')]
    from pathlib import Path

    import test_transfer_e2e as e2e
    results = []
    for make_config in (e2e.detection_config, e2e.segmentation_config):
        name = make_config.__name__.replace('_config', '')
        root = Path(work_dir) / name
        text, final_ckpt, metric = make_config(root / 'data', checkpoint)
        config = e2e.write(root / 'config.py', text)
        command = [sys.executable, osp.join(repo, 'tools', 'train.py'), config,
                   '--work-dir', str(root / 'work')]
        print('$', ' '.join(command), flush=True)
        result = subprocess.run(command, cwd=repo, capture_output=True, text=True)
        print(result.stdout + result.stderr, flush=True)
        output = result.stdout + result.stderr
        if result.returncode:
            sys.exit(f'{name} failed (exit {result.returncode}); see above')
        values = re.findall(re.escape(metric) + r':\s*([-0-9.]+)', output)
        if not (osp.isfile(root / 'work' / final_ckpt) and values
                and 'SimMIM encoder tensors' in output):
            sys.exit(f'{name}: no {final_ckpt}, {metric} or loaded SimMIM weights; see above')
        results.append(f'{name} {metric} {values[-1]}')
    return '; '.join(results)


# ---------------------------------------------------------------------------- summary

def pytest_counts(xml_path: str):
    """({'passed': N, 'failed': M, 'skipped': K}, failed test names, skip reasons) from a
    pytest --junitxml file."""
    cases = ET.parse(xml_path).getroot().iter('testcase')
    counts, reasons, failed = {'passed': 0, 'failed': 0, 'skipped': 0}, set(), []
    for case in cases:
        outcome = 'passed'
        for child in case:
            if child.tag in ('failure', 'error'):
                outcome = 'failed'
                failed.append(case.get('name'))
            elif child.tag == 'skipped':
                outcome = 'skipped'
                reasons.add(child.get('message', '').replace('\n', ' ')[:120])
        counts[outcome] += 1
    return counts, failed, reasons


def pytest_detail(xml_path: str) -> str:
    """'N passed, M failed, K skipped (failed: ...) (skipped: reasons)'."""
    if not osp.isfile(xml_path):
        return ''
    counts, failed, reasons = pytest_counts(xml_path)
    text = ', '.join(f'{n} {k}' for k, n in counts.items() if n)
    if failed:
        text += ' (failed: ' + ', '.join(failed[:4]) + (' ...' if len(failed) > 4 else '') + ')'
    if reasons:
        text += ' (skipped: ' + '; '.join(sorted(reasons)) + ')'
    return text


def benchmark_detail(json_path: str) -> str:
    """Images/s, FLOP utilization and peak memory of each implementation, and the ratio."""
    if not osp.isfile(json_path):
        return ''
    report = json.load(open(json_path))
    parts = []
    for impl, result in report['results'].items():
        text = f"{impl} {result['images_per_s']:.4g} img/s"
        if result.get('flop_utilization') is not None:
            text += f", {result['flop_utilization']:.0%} FLOP util."
        if result.get('peak_memory_bytes'):
            text += f", {result['peak_memory_bytes'] / 2**30:.1f} GiB"
        parts.append(text)
    if 'speedup' in report:
        parts.append(f"simmim_mm/mmpretrain {report['speedup']:.2f}x")
    check = report.get('check')  # the standalone train_step loop, run after the timed one
    if check:
        parts.append('standalone loop agrees' if check['agrees'] else
                     f"standalone loop DISAGREES by more than {check['tolerance']:.0%}")
    return f"batch {report['batch_size']} {report['precision']}: " + '; '.join(parts)


def step_detail(logdir: str, step_id: str, note: str) -> str:
    detail_file = osp.join(logdir, f'{step_id}.detail')
    found = [pytest_detail(osp.join(logdir, f'{step_id}.xml')),
             benchmark_detail(osp.join(logdir, f'{step_id}.json')),
             open(detail_file).read().strip() if osp.isfile(detail_file) else '']
    return '; '.join(text for text in [note, *found] if text)


def summary(logdir: str) -> str:
    rows = []
    with open(osp.join(logdir, 'steps.tsv')) as f:
        for line in f:
            if line.strip():
                fields = line.rstrip('\n').split('\t') + ['']
                rows.append(tuple(field.strip() for field in fields[:5]))
    env_file = osp.join(logdir, 'environment.txt')
    lines = ['# GPU check', '']
    if osp.isfile(env_file):
        lines += [f'- {line.strip()}' for line in open(env_file) if line.strip()]
        lines.append('')
    lines += ['| step | result | seconds | details |', '|---|---|---|---|']
    for step_id, status, seconds, title, note in rows:
        xml = osp.join(logdir, f'{step_id}.xml')
        if status == 'passed' and osp.isfile(xml):  # a run of only skips is no pass
            counts = pytest_counts(xml)[0]
            if counts['skipped'] and not counts['passed'] + counts['failed']:
                status = 'skipped'
        detail = step_detail(logdir, step_id, note).replace('|', '/')
        lines.append(f'| {step_id} {title} | {status} | {seconds} | {detail} |')
    failed = [r[0] for r in rows if r[1] in ('failed', 'timed out')]
    lines += ['', f"{'FAILED: ' + ', '.join(failed) if failed else 'no step failed'}; "
              f'logs in {osp.abspath(logdir)}']
    text = '\n'.join(lines) + '\n'
    with open(osp.join(logdir, 'summary.md'), 'w') as f:
        f.write(text)
    return text


def main(argv):
    usage = __doc__.split('\n\n')[1]
    if argv[:1] == ['kit'] and len(argv) == 1:
        print('\n'.join(KIT))
    elif argv[:1] == ['build-tools'] and len(argv) == 1:
        print('\n'.join(BUILD_TOOLS))
    elif argv[:1] == ['mmcv-version'] and len(argv) == 1:
        print(MMCV_VERSION)
    elif argv[:1] == ['check-demo'] and len(argv) == 4:
        print(check_demo(argv[1], int(argv[2]), int(argv[3])))
    elif argv[:1] == ['downstream'] and len(argv) == 3:
        print(downstream(argv[1], argv[2]))
    elif argv[:1] == ['summary'] and len(argv) == 2:
        print(summary(argv[1]), end='')
    else:
        sys.exit(f'usage:\n{usage}')


if __name__ == '__main__':
    main(sys.argv[1:])
