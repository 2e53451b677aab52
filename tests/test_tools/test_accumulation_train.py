"""tools/train.py --accumulation-steps: the lr scaled for GPUs x batch x steps and logged at
start, one optimizer step every `steps` iterations."""
import glob
import json
import os.path as osp
import re
import subprocess
import sys

import pytest

from simmim_mm.checkpoint import load_checkpoint_file

from conftest import REPO_ROOT, demo_config

LR, BASE_BATCH, START_FACTOR, MIN_RATIO = 1e-3, 2048, 0.005, 0.05


def write_config(tmp_path, image_folder, max_iters):
    path = tmp_path / 'accumulate.py'
    path.write_text(
        demo_config(
            image_folder,
            max_iters,
            checkpoint_interval=max_iters,
            pipeline="""[
    dict(type='LoadImageFromFileOrSkip'),
    dict(type='Resize', scale=(64, 64)),
    dict(type='SeededSimMIMMaskGenerator', input_size=64, mask_patch_size=16,
         model_patch_size=4, mask_ratio=0.6),
    dict(type='PackInputs')]""",
            param_scheduler=f"""[
    dict(type='LinearLR', start_factor={START_FACTOR}, by_epoch=False, begin=0, end=4),
    dict(type='FullPhaseCosineAnnealingLR', T_max={max_iters}, eta_min_ratio={MIN_RATIO},
         by_epoch=False, begin=4, end={max_iters}),
]""",
            after=f"""\
# fp32 on every CPU (conftest.FP32), the lr for a total batch of {BASE_BATCH}
optim_wrapper = dict(dtype='float32', optimizer=dict(lr={LR}))
auto_scale_lr = dict(base_batch_size={BASE_BATCH}, enable=True)
randomness = dict(seed=0)"""))
    return str(path)


def test_accumulation_steps(tmp_path, image_folder):
    max_iters, steps, batch = 8, 2, 2
    work_dir = str(tmp_path / 'work')
    result = subprocess.run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'train.py'),
        write_config(tmp_path, image_folder, max_iters), '--work-dir', work_dir,
        '--accumulation-steps',
        str(steps)
    ],
                            capture_output=True,
                            text=True,
                            cwd=REPO_ROOT,
                            timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]

    total = 1 * batch * steps
    lr = LR * total / BASE_BATCH
    line = re.search(
        r'Learning rate: lr (\S+), warmup start lr (\S+), min lr (\S+) for a '
        r'total batch of (\d+) = 1 process x 2 per process x 2 accumulation '
        r'steps', output)
    assert line, output[-3000:]
    assert float(line.group(1)) == pytest.approx(lr, rel=1e-5)
    assert float(line.group(2)) == pytest.approx(START_FACTOR * lr, rel=1e-5)
    assert float(line.group(3)) == pytest.approx(MIN_RATIO * lr, rel=1e-5)
    assert int(line.group(4)) == total

    records = [
        json.loads(text) for path in glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))
        for text in open(path)
    ]
    lrs = {r['iter']: r['lr'] for r in records if 'lr' in r}
    assert sorted(lrs) == list(range(1, max_iters + 1))
    assert lrs[1] == pytest.approx(START_FACTOR * lr, rel=1e-5)  # the schedule runs on it

    state = load_checkpoint_file(osp.join(work_dir, f'iter_{max_iters}.pth'))
    optimizer_steps = {float(s['step']) for s in state['optimizer']['state'].values()}
    assert optimizer_steps == {max_iters / steps}
