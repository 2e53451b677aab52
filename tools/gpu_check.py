"""Helpers of tools/gpu_check.sh: what the kit holds, the demo check and the summary table.

    python tools/gpu_check.py requirements   # what the kit is made for (requirements/*.txt)
    python tools/gpu_check.py constraints    # the pins it is made with (constraints.txt)
    python tools/gpu_check.py build-tools    # what tools/build_mmcv.sh's build venv installs
    python tools/gpu_check.py mmcv-version   # the mmcv whose source the kit carries
    python tools/gpu_check.py prune WHEELS NODE_HAS      # drops wheels the node has
    python tools/gpu_check.py install-plan KIT           # the kit's wheels this Python lacks
    python tools/gpu_check.py check-demo WORK_DIR ITERS RESUMED_ITERS
    python tools/gpu_check.py downstream WORK_DIR SIMMIM_CHECKPOINT
    python tools/gpu_check.py summary LOGDIR # prints the table, writes LOGDIR/summary.md

Standard library only at import: `requirements`, `constraints` and `prune` run on whatever
networked machine prepares the kit. Every version comes from requirements/ when it runs.
"""
import glob
import json
import math
import os
import os.path as osp
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from typing import Dict, Iterable, List, Tuple

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# What the kit is made for: simmim_mm with its `downstream` and `tests` extras
KIT_REQUIREMENTS = ('runtime', 'downstream', 'tests')
# The GPU node's own: its CUDA torch and torchvision are never downloaded nor replaced.
NODE_OWNS = {'torch', 'torchvision'}
# mmcv is built on the node from the kit's source, or installed from a wheel without ops.
BUILT_ON_THE_NODE = {'mmcv'}
# `pip install -e .` runs on the node without build isolation (there is no index to fetch
# build tools from): setuptools builds the editable wheel, and before 70.1 it needs `wheel`.
EDITABLE_INSTALL_NEEDS = ['wheel']
# tools/build_mmcv.sh's throw-away build venv installs these (offline: from the kit); they
# are downloaded with their own dependencies and never installed into the node's Python.
BUILD_TOOLS = ['setuptools<70', 'wheel', 'ninja']
# Distributions that install the same `cv2`: mmengine asks for opencv-python, and a node
# with any of them has what it needs.
OPENCV = {
    'opencv-python', 'opencv-python-headless', 'opencv-contrib-python',
    'opencv-contrib-python-headless'
}


def canonical(name: str) -> str:
    return re.sub(r'[-_.]+', '-', name).lower()


def requirement_name(line: str) -> str:
    return canonical(re.split(r'[<>=!~;\[ ]', line.strip(), maxsplit=1)[0])


def requirement_lines(name: str) -> List[str]:
    """The requirement lines of requirements/<name>.txt, comments dropped."""
    with open(osp.join(REPO_ROOT, 'requirements', f'{name}.txt')) as file:
        lines = [line.split('#', 1)[0].strip() for line in file]
    return [line for line in lines if line]


def kit_requirements() -> List[str]:
    """What the kit is downloaded for: the requirements of simmim_mm and its extras, but the
    node's own torch / torchvision and the mmcv built there, and what installing it needs."""
    skip = NODE_OWNS | BUILT_ON_THE_NODE
    return [
        line for name in KIT_REQUIREMENTS
        for line in requirement_lines(name) if requirement_name(line) not in skip
    ] + EDITABLE_INSTALL_NEEDS


def kit_constraints() -> List[str]:
    """requirements/constraints.txt (the measured stack) but the node's own packages."""
    return [
        line for line in requirement_lines('constraints') if requirement_name(line) not in NODE_OWNS
    ]


def mmcv_version() -> str:
    for line in requirement_lines('constraints'):
        if requirement_name(line) == 'mmcv':
            return line.split('==', 1)[1].strip()
    raise SystemExit('requirements/constraints.txt pins no mmcv')


def wheel_name_version(filename: str) -> Tuple[str, str]:
    """(canonical name, version) from a wheel's file name (PEP 427)."""
    name, version = osp.basename(filename).split('-')[:2]
    return canonical(name), version


def node_has_names(path: str) -> set:
    """Package names from a file of one per line, bare or as `pip freeze` writes them."""
    with open(path) as file:
        lines = [line.split('#', 1)[0].strip() for line in file]
    return {requirement_name(line) for line in lines if line and not line.startswith('-')}


def prune(wheel_dir: str, node_has: set) -> List[str]:
    """Removes the wheels of packages the node has (their versions are the node's business),
    but those pinned by constraints.txt: whether the node's version will do is decided on the
    node. Returns the removed files' names."""
    pinned = {requirement_name(line) for line in kit_constraints()}
    has = set(node_has) | (OPENCV if node_has & OPENCV else set())
    removed = []
    for path in sorted(glob.glob(osp.join(wheel_dir, '*.whl'))):
        name = wheel_name_version(path)[0]
        if name in has and name not in pinned:
            os.remove(path)
            removed.append(osp.basename(path))
    return removed


def _packaging():
    try:
        from packaging.requirements import Requirement
        from packaging.version import Version
    except ImportError:  # a bare node: pip carries its own copy
        from pip._vendor.packaging.requirements import Requirement
        from pip._vendor.packaging.version import Version
    return Requirement, Version


def install_plan(wheels: Iterable[str], installed: Dict[str, str],
                 requirements: Iterable[str]) -> Tuple[List[str], List[str]]:
    """Which of the kit's wheels to install (``--no-deps``) into a Python that has
    ``installed`` ({canonical name: version}): those of packages it lacks, or has at a
    version outside ``requirements``' range. Returns (wheels to install, what is kept and
    why). Raises SystemExit, naming it, for a requirement that neither the kit nor the
    Python meets."""
    Requirement, Version = _packaging()
    reqs = [Requirement(line) for line in requirements]
    specs = {}
    for req in reqs:
        specs.setdefault(canonical(req.name), []).append(req.specifier)
    installed = dict(installed)
    for name in OPENCV & set(installed):
        installed.setdefault('opencv-python', installed[name])

    def meets(name: str, version: str) -> bool:
        return all(
            spec.contains(Version(version), prereleases=True) for spec in specs.get(name, []))

    to_install, kept = [], []
    for path in sorted(wheels):
        name, version = wheel_name_version(path)
        have = installed.get(name)
        if have is not None and meets(name, have):
            kept.append(f'{name} {have} (installed; the kit has {version})')
        else:
            to_install.append(path)
    available = {wheel_name_version(path) for path in to_install}
    for req in reqs:
        name = canonical(req.name)
        if name in installed and meets(name, installed[name]):
            continue
        if not any(n == name and meets(n, v) for n, v in available):
            have = f'has {name} {installed[name]}' if name in installed else 'lacks it'
            raise SystemExit(
                f'the kit has no wheel for {req} and this Python {have}: make the kit '
                'again with `bash tools/gpu_check.sh prepare` (without --node-has, or with a '
                'file that does not list it)')
    return to_install, kept


def installed_distributions() -> Dict[str, str]:
    from importlib import metadata
    return {
        canonical(dist.metadata['Name']): dist.version
        for dist in metadata.distributions() if dist.metadata['Name']
    }


def node_install_plan(kit: str) -> List[str]:
    """install_plan for this Python and the kit in ``kit``; the node's own torch and
    torchvision must be there already."""
    installed = installed_distributions()
    missing = sorted(NODE_OWNS - set(installed))
    if missing:
        raise SystemExit(f'this Python has no {" or ".join(missing)}: the kit brings none, '
                         "install the node's own (CUDA) build first")
    wheels = glob.glob(osp.join(kit, 'wheels', '*.whl'))
    to_install, kept = install_plan(wheels, installed, kit_requirements())
    for line in kept:
        print(f'keeps {line}', file=sys.stderr)
    return to_install


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
    repo = REPO_ROOT
    sys.path[:0] = [osp.join(repo, 'tests'), osp.join(repo, 'tests', 'test_tools')]
    from pathlib import Path

    import test_transfer_e2e as e2e
    results = []
    for make_config in (e2e.detection_config, e2e.segmentation_config):
        name = make_config.__name__.replace('_config', '')
        root = Path(work_dir) / name
        text, final_ckpt, metric = make_config(root / 'data', checkpoint)
        config = e2e.write(root / 'config.py', text)
        command = [
            sys.executable,
            osp.join(repo, 'tools', 'train.py'), config, '--work-dir',
            str(root / 'work')
        ]
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
    """A train report: images/s, FLOP utilization and peak memory of each implementation, and
    the ratio; a compress report: teacher and student images/s and the ratios."""
    if not osp.isfile(json_path):
        return ''
    with open(json_path) as file:
        report = json.load(file)
    if report.get('kind') == 'compress':
        return compress_detail(report)
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


def compress_detail(report: dict) -> str:
    """'batch 64 bf16, 224 px: teacher 900 img/s; student 3100 img/s; 4.0x fewer parameters,
    3.8x fewer FLOPs, 3.44x the images/s'."""
    parts = [
        f"{role} {result['images_per_s']:.4g} img/s" for role, result in report['results'].items()
    ]
    ratio = report['teacher_over_student']
    parts.append(f"{ratio['parameters']:.1f}x fewer parameters, {ratio['flops']:.1f}x fewer "
                 f"FLOPs, {ratio['speedup']:.2f}x the images/s")
    return (f"batch {report['batch_size']} {report['precision']}, {report['image_size']} px: " +
            '; '.join(parts))


def step_detail(logdir: str, step_id: str, note: str) -> str:
    detail_file = osp.join(logdir, f'{step_id}.detail')
    found = [
        pytest_detail(osp.join(logdir, f'{step_id}.xml')),
        benchmark_detail(osp.join(logdir, f'{step_id}.json')),
        open(detail_file).read().strip() if osp.isfile(detail_file) else ''
    ]
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
    lines += [
        '', f"{'FAILED: ' + ', '.join(failed) if failed else 'no step failed'}; "
        f'logs in {osp.abspath(logdir)}'
    ]
    text = '\n'.join(lines) + '\n'
    with open(osp.join(logdir, 'summary.md'), 'w') as f:
        f.write(text)
    return text


def main(argv):
    usage = __doc__.split('\n\n')[1]
    verb, args = (argv[0], argv[1:]) if argv else ('', [])
    lists = {
        'requirements': kit_requirements,
        'constraints': kit_constraints,
        'build-tools': lambda: BUILD_TOOLS,
        'mmcv-version': lambda: [mmcv_version()]
    }
    if verb in lists and not args:
        print('\n'.join(lists[verb]()))
    elif verb == 'prune' and len(args) == 2:
        removed = prune(args[0], node_has_names(args[1]))
        print(f'left out {len(removed)} wheels of packages the node has', file=sys.stderr)
    elif verb == 'install-plan' and len(args) == 1:
        print('\n'.join(node_install_plan(args[0])))
    elif verb == 'check-demo' and len(args) == 3:
        print(check_demo(args[0], int(args[1]), int(args[2])))
    elif verb == 'downstream' and len(args) == 2:
        print(downstream(args[0], args[1]))
    elif verb == 'summary' and len(args) == 1:
        print(summary(args[0]), end='')
    else:
        sys.exit(f'usage:\n{usage}')


if __name__ == '__main__':
    main(sys.argv[1:])
