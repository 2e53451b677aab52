"""tools/train.py killed and resumed: the same losses as an uninterrupted run, and a SIGKILL in
the middle of writing a checkpoint loses nothing but the iterations since the last one."""
import glob
import json
import os
import os.path as osp
import random
import signal
import subprocess
import sys
import time

import pytest
import torch

from conftest import FP32, HAS_CUDA, REPO_ROOT, demo_config

TRAIN = osp.join(REPO_ROOT, 'tools', 'train.py')

# Half-writes the checkpoint of iteration `SLOW_SAVE_ITER`, then hangs: a kill lands mid-write.
SLOW_SAVE = '''
import os, time
from mmengine.fileio.backends.local_backend import LocalBackend

_put = LocalBackend.put

def put(self, obj, filepath):
    if 'iter_{}.pth'.format(os.environ['SLOW_SAVE_ITER']) not in os.path.basename(filepath):
        return _put(self, obj, filepath)
    with open(filepath, 'wb') as f:
        f.write(obj[:len(obj) // 2])
        f.flush()
        time.sleep(120)
        f.write(obj[len(obj) // 2:])

LocalBackend.put = put
'''


def write_config(tmp_path,
                 image_folder,
                 max_iters,
                 num_workers=0,
                 interval=4,
                 imports=(),
                 amp=False):
    """The demo config, shrunk: a 4-block Swin with drop path (random in the training process,
    so its RNG state must survive the resume), a warmup + cosine schedule that crosses the
    resume point, deterministic settings; fp32 unless ``amp`` (the configs' mixed precision:
    fp16 with a loss scaler on CUDA)."""
    path = tmp_path / f'cfg_{max_iters}_{num_workers}_{len(imports)}_{amp}.py'
    path.write_text(
        demo_config(
            image_folder,
            max_iters,
            tiny_model=False,
            num_workers=num_workers,
            checkpoint_interval=interval,
            before=f"""\
custom_imports = dict(imports=['simmim_mm', *{list(imports)!r}], allow_failed_imports=False)
model = dict(backbone=dict(
    arch=dict(_delete_=True, embed_dims=16, depths=[1, 1, 1, 1], num_heads=[1, 2, 4, 8]),
    drop_path_rate=0.2))""",
            param_scheduler="""[
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=3),
    dict(type='FullPhaseCosineAnnealingLR', T_max=8, eta_min_ratio=0.01, by_epoch=False,
         begin=3, end=8),
]""",
            after=f"""\
randomness = dict(seed=0, deterministic=True)
{'' if amp else FP32}"""))
    return str(path)


def command(config, work_dir, *extra):
    return [sys.executable, TRAIN, config, '--work-dir', work_dir, *extra]


def environment(**extra):
    return dict(os.environ, OMP_NUM_THREADS='1', **extra)


def train(config, work_dir, *extra):
    result = subprocess.run(
        command(config, work_dir, *extra),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=environment(),
        timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def logged(work_dir, key):
    values = {}
    for path in glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')):
        for line in open(path):
            record = json.loads(line)
            if key in record:
                values[record['iter']] = record[key]
    return values


def checkpoint(work_dir, name='iter_8.pth'):
    return torch.load(osp.join(work_dir, name), map_location='cpu', weights_only=True)


@pytest.mark.parametrize(
    'device,num_workers',
    [
        pytest.param('cpu', 0, id='cpu'),
        pytest.param('cpu', 2, id='cpu-2workers'),
        # the configs' fp16 AMP on the GPU; run by the GPU check (tools/gpu_check.sh)
        pytest.param(
            'cuda',
            2,
            id='cuda-2workers',
            marks=[
                pytest.mark.cuda,
                pytest.mark.skipif(not HAS_CUDA, reason='needs a CUDA GPU: torch sees none here')
            ]),
    ])
def test_resume_reproduces_uninterrupted_run(tmp_path, image_folder, monkeypatch, device,
                                             num_workers):
    """Stopped after iteration 4 and resumed: bit for bit the losses, learning rates and
    final weights of an uninterrupted run (same data order, crops, flips, masks, drop path
    and lr); on CUDA also the fp16 loss scaler."""
    if device == 'cuda':
        # randomness.deterministic turns on torch.use_deterministic_algorithms, for which
        # cuBLAS needs a fixed workspace (else the first matmul raises)
        monkeypatch.setenv('CUBLAS_WORKSPACE_CONFIG', ':4096:8')
    straight, split = str(tmp_path / 'straight'), str(tmp_path / 'split')
    amp = device == 'cuda'
    train(write_config(tmp_path, image_folder, 8, num_workers, amp=amp), straight)
    train(write_config(tmp_path, image_folder, 4, num_workers, amp=amp), split)
    output = train(write_config(tmp_path, image_folder, 8, num_workers, amp=amp), split, '--resume')
    assert 'resumed epoch: 0, iter: 4' in output

    expected, resumed = logged(straight, 'loss'), logged(split, 'loss')
    assert sorted(expected) == list(range(1, 9))
    assert len(set(expected.values())) == 8  # the comparison below is not a trivial one
    assert resumed == expected
    assert logged(split, 'lr') == logged(straight, 'lr')

    a, b = checkpoint(straight), checkpoint(split)
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key, value in a['state_dict'].items():
        assert torch.equal(value, b['state_dict'][key]), key
    if device == 'cuda':
        # trained on the GPU with the configs' fp16 AMP: the loss scaler was saved and restored
        scaler = a['optimizer'].get('loss_scaler')
        assert scaler and scaler['scale'] > 0, 'no fp16 loss scaler state: did this run on CUDA?'
        assert b['optimizer']['loss_scaler'] == scaler


def test_kill_while_saving_checkpoint_then_resume(tmp_path, image_folder):
    work_dir = str(tmp_path / 'work')
    slow = tmp_path / 'plugins'
    slow.mkdir()
    (slow / 'slow_save.py').write_text(SLOW_SAVE)
    config = write_config(tmp_path, image_folder, 12, imports=['slow_save'])
    process = subprocess.Popen(
        command(config, work_dir),
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environment(SLOW_SAVE_ITER='8', PYTHONPATH=f'{slow}{os.pathsep}{REPO_ROOT}'))
    try:
        deadline = time.monotonic() + 60
        partial = []
        while not partial and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            # under whichever name it is being written
            partial = [
                p for pattern in ('iter_8.pth', '.iter_8.pth.*.tmp')
                for p in glob.glob(osp.join(work_dir, pattern)) if osp.getsize(p) > 0
            ]
        assert partial, f'no checkpoint being written (exit code {process.poll()})'
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait()

    # the half-written file has no final name; the previous checkpoint is intact and named
    assert not osp.exists(osp.join(work_dir, 'iter_8.pth'))
    previous = osp.join(work_dir, 'iter_4.pth')
    assert open(osp.join(work_dir, 'last_checkpoint')).read() == previous
    # max_keep_ckpts=1 (demo): MMEngine would already have deleted it before writing iter_8
    assert torch.load(previous, map_location='cpu', weights_only=True)['meta']['iter'] == 4

    output = train(write_config(tmp_path, image_folder, 12), work_dir, '--resume')
    assert 'resumed epoch: 0, iter: 4' in output
    assert set(range(5, 13)) <= set(logged(work_dir, 'loss'))
    final = torch.load(osp.join(work_dir, 'iter_12.pth'), map_location='cpu', weights_only=True)
    assert final['meta']['iter'] == 12
    assert not osp.exists(previous)  # outdated checkpoints are still pruned, just later
    assert not glob.glob(osp.join(work_dir, '.*.tmp'))  # the killed run's half file too


def test_killed_at_random_moments_always_resumes(tmp_path, image_folder):
    """SIGKILL at arbitrary moments of a run that saves every iteration (so often while
    saving): each kill leaves only complete checkpoints under final names, and
    ``last_checkpoint`` names one of them, from which the next ``--resume`` goes on."""
    work_dir = str(tmp_path / 'work')
    pointer = osp.join(work_dir, 'last_checkpoint')
    config = write_config(tmp_path, image_folder, 40, interval=1)
    rng = random.Random(0)
    for _ in range(3):
        before = open(pointer).read() if osp.exists(pointer) else None
        process = subprocess.Popen(
            command(config, work_dir, '--resume'),
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=environment())
        deadline = time.monotonic() + 60
        # wait until this run has saved, then kill it a moment later
        while (process.poll() is None and time.monotonic() < deadline
               and (not osp.exists(pointer) or open(pointer).read() == before)):
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.3))
        process.kill()
        assert process.wait() == -signal.SIGKILL, 'the run ended before it was killed'

        latest = open(pointer).read()
        assert latest != before
        for path in glob.glob(osp.join(work_dir, 'iter_*.pth')):
            torch.load(path, map_location='cpu', weights_only=True)  # complete, readable
        assert osp.isfile(latest)

    resumed_at = torch.load(latest, map_location='cpu', weights_only=True)['meta']['iter']
    output = train(write_config(tmp_path, image_folder, 40), work_dir, '--resume')
    assert f'resumed epoch: 0, iter: {resumed_at}' in output
    assert torch.load(
        osp.join(work_dir, 'iter_40.pth'), map_location='cpu',
        weights_only=True)['meta']['iter'] == 40
