"""A pretraining killed mid-epoch (SIGKILL) or told to stop (SIGTERM to every process, as Slurm
does) resumes at the next batch of that epoch and trains exactly as a run that never stopped:
the real epoch loop, sampler, two dataloader workers, and two processes; from a folder and
from WebDataset shards."""
import json
import os
import os.path as osp
import signal
import socket
import subprocess
import sys
import time

import pytest
import torch

from conftest import FP32, REPO_ROOT, TINY_DEMO_MODEL, make_images

# 12 images, 2 per step: 6 iterations per epoch, 12 in the run

# Every rank appends each iteration's loss and lr as it goes (a killed run keeps its lines);
# `PauseAt` stops rank 0 after iteration PAUSE_ITER (after the resume point of that
# iteration was saved) and says so with a file, so that the test kills it at a known place.
PLUGIN = '''
import json, os, time
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from simmim_mm.registry import HOOKS


@HOOKS.register_module()
class RecordIterations(Hook):
    priority = 'LOWEST'

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        path = os.path.join(runner.work_dir, 'iters_rank{}.jsonl'.format(get_rank()))
        with open(path, 'a') as f:
            f.write(json.dumps(dict(iter=runner.iter + 1, epoch=runner.epoch, batch=batch_idx,
                                    loss=float(outputs['loss'].detach()),
                                    lr=runner.optim_wrapper.get_lr()['lr'][0])) + '\\n')
        if runner.iter + 1 == int(os.environ.get('PAUSE_ITER', -1)) and get_rank() == 0:
            open(os.path.join(runner.work_dir, 'paused'), 'w').close()
            time.sleep(float(os.environ.get('PAUSE_SECONDS', 600)))
'''


def write_config(tmp_path, image_folder, resume_interval, batch_size, shards=None):
    (tmp_path / 'record_iterations.py').write_text(PLUGIN)
    path = tmp_path / 'cfg.py'
    path.write_text(f"""
_base_ = {osp.join(REPO_ROOT, 'configs',
                   'pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py')!r}
custom_imports = dict(imports=['simmim_mm', 'record_iterations'], allow_failed_imports=False)
{TINY_DEMO_MODEL}
model['backbone']['drop_path_rate'] = 0.2  # drawn in the training process
train_pipeline = [
    dict(type='LoadImageFromFileOrSkip'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.67, 1.0), backend='pillow',
         interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='SimMIMMaskGenerator', input_size=64, mask_patch_size=16, model_patch_size=4,
         mask_ratio=0.6),
    dict(type='PackInputs')]
train_dataloader = dict(
    batch_size={batch_size}, num_workers=2, persistent_workers=True, pin_memory=False,
    dataset=dict(data_root={image_folder!r}, data_prefix='', pipeline=train_pipeline))
{'' if shards is None else f'train_dataloader["dataset"]["shards"] = {shards!r}'}
train_cfg = dict(max_epochs=2)
auto_scale_lr = dict(enable=False)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [  # per iteration, across the epochs and the resume
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=5),
    dict(type='FullPhaseCosineAnnealingLR', T_max=12, eta_min_ratio=0.01, by_epoch=False,
         begin=5, end=12)]
default_hooks = dict(logger=dict(interval=1),
                     resume_point=dict(interval={resume_interval}))
custom_hooks = [dict(type='RecordIterations')]
randomness = dict(seed=0, deterministic=True)
{FP32}
""")
    return str(path)


def environment(tmp_path, **extra):
    return dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PYTHON=sys.executable,
        PYTHONPATH=f'{tmp_path}{os.pathsep}{REPO_ROOT}',
        **extra)


def launch(config, work_dir, processes, tmp_path, *extra, **env):
    if processes == 1:
        command = [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'), config]
    else:
        with socket.socket() as sock:
            sock.bind(('127.0.0.1', 0))
            port = str(sock.getsockname()[1])
        env['PORT'] = port
        command = ['bash', osp.join(REPO_ROOT, 'tools', 'dist_train.sh'), config, str(processes)]
    # its own process group: the test signals the whole job, as Slurm does
    return subprocess.Popen(
        command + ['--work-dir', work_dir, *extra],
        cwd=REPO_ROOT,
        env=environment(tmp_path, **env),
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True)


def finish(process, expect=0):
    output, _ = process.communicate(timeout=600)
    assert expect is None or process.returncode == expect, output[-4000:]
    return output


def job_processes(root: int) -> list:
    """``root`` and every process descending from it, read from /proc: torchrun starts each
    rank in a session of its own, out of reach of a signal to the launcher's group."""
    children = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open(f'/proc/{entry}/stat') as file:
                    parent = int(file.read().rsplit(')', 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
            children.setdefault(parent, []).append(int(entry))
    found, stack = [], [root]
    while stack:
        found.append(stack.pop())
        stack.extend(children.get(found[-1], []))
    return found


def pause_then_signal(process, work_dir, signum):
    """At the pause, ``signum`` to every process of the job, as Slurm signals a job's cgroup
    (a SIGKILL to the launcher's group alone left the ranks running)."""
    deadline = time.monotonic() + 300
    while not osp.exists(osp.join(work_dir, 'paused')):
        assert process.poll() is None, process.communicate()[0][-4000:]
        assert time.monotonic() < deadline, 'the run never reached the pause'
        time.sleep(0.1)
    processes = job_processes(process.pid)
    # at least a process and its two dataloader workers, or bash, torchrun and two ranks
    assert len(processes) >= 3, processes
    for pid in processes:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass
    return processes


def alive(pid: int) -> bool:
    try:
        with open(f'/proc/{pid}/stat') as file:
            return file.read().rsplit(')', 1)[1].split()[0] != 'Z'  # a zombie is dead
    except OSError:
        return False


def iterations(work_dir, rank=0):
    records = {}
    for line in open(osp.join(work_dir, f'iters_rank{rank}.jsonl')):
        record = json.loads(line)
        records[record['iter']] = record  # a resumed run overwrites what it redid
    return records


def checkpoint_meta(path):
    return torch.load(path, map_location='cpu', weights_only=True)['meta']


@pytest.fixture
def twelve_images(tmp_path):
    make_images(tmp_path / 'images', count=12)
    return str(tmp_path / 'images')


def shards_of(tmp_path, image_folder):
    """The images as shards of 5, 5 and 2 (an epoch crosses shards), written by the tool."""
    out = subprocess.run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'dataset_converters', 'images_to_shards.py'), image_folder,
        str(tmp_path / 'shards'), '--samples-per-shard', '5'
    ],
                         env=environment(tmp_path),
                         capture_output=True,
                         text=True)
    assert out.returncode == 0, out.stderr
    return str(tmp_path / 'shards' / 'shards-{000000..000002}.tar')


@pytest.mark.parametrize('source', ['folder', 'shards'])
def test_sigkill_mid_epoch_two_processes_resume_exactly(tmp_path, twelve_images, source):
    shards = shards_of(tmp_path, twelve_images) if source == 'shards' else None
    config = write_config(tmp_path, twelve_images, resume_interval=4, batch_size=1, shards=shards)
    straight, killed = str(tmp_path / 'straight'), str(tmp_path / 'killed')
    output = finish(launch(config, straight, 2, tmp_path))
    assert ('Reading shards' in output) == (source == 'shards')

    # resume points at iterations 4 and 8; the job is killed (every process, no warning)
    # after iteration 9, in the second epoch
    process = launch(config, killed, 2, tmp_path, PAUSE_ITER='9')
    job = pause_then_signal(process, killed, signal.SIGKILL)
    process.wait(timeout=60)
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in job) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in job if alive(pid)]  # no rank left behind to train on
    resume_point = osp.join(killed, 'resume_point.pth')
    meta = checkpoint_meta(resume_point)
    assert (meta['epoch'], meta['iter']) == (1, 8)  # 2 batches into the second epoch
    assert open(osp.join(killed, 'last_checkpoint')).read() == resume_point

    output = finish(launch(config, killed, 2, tmp_path, '--resume'))
    assert 'resumed epoch: 1, iter: 8' in output
    assert 'Resuming epoch 2 at batch 3 of 6' in output
    for rank in (0, 1):
        expected, resumed = iterations(straight, rank), iterations(killed, rank)
        assert sorted(expected) == list(range(1, 13))
        # the resumed run did iterations 9-12 only, as batches 2-5 of the second epoch
        assert sorted(resumed) == list(range(1, 13))
        assert [resumed[i]['batch'] for i in range(9, 13)] == [2, 3, 4, 5]
        assert len({expected[i]['loss'] for i in expected}) == 12  # not a trivial comparison
        # bit for bit: the same images, crops, flips, masks, drop path and lr
        assert resumed == expected
    weights = [
        torch.load(osp.join(d, 'epoch_2.pth'), map_location='cpu', weights_only=True)['state_dict']
        for d in (straight, killed)
    ]
    for key in weights[0]:
        assert torch.equal(weights[0][key], weights[1][key]), key


@pytest.mark.parametrize('source', ['folder', 'shards'])
def test_sigterm_saves_at_the_end_of_the_iteration_and_resume_goes_on(tmp_path, twelve_images,
                                                                      source):
    shards = shards_of(tmp_path, twelve_images) if source == 'shards' else None
    config = write_config(tmp_path, twelve_images, resume_interval=100, batch_size=2, shards=shards)
    straight, stopped = str(tmp_path / 'straight'), str(tmp_path / 'stopped')
    output = finish(launch(config, straight, 1, tmp_path))
    assert ('Reading shards' in output) == (source == 'shards')

    # SIGTERM to the training process and its two dataloader workers during iteration 3 of
    # the first epoch (its pause): the workers live on, the run saves after iteration 4
    process = launch(config, stopped, 1, tmp_path, PAUSE_ITER='3', PAUSE_SECONDS='2')
    pause_then_signal(process, stopped, signal.SIGTERM)
    output = finish(process, expect=128 + signal.SIGTERM)
    assert 'SIGTERM received: saving at iteration 4 and stopping' in output
    assert 'killed by signal' not in output
    resume_point = osp.join(stopped, 'resume_point.pth')
    assert (checkpoint_meta(resume_point)['epoch'], checkpoint_meta(resume_point)['iter']) == (0, 4)
    assert open(osp.join(stopped, 'last_checkpoint')).read() == resume_point
    assert sorted(iterations(stopped)) == [1, 2, 3, 4]  # it stopped there

    output = finish(launch(config, stopped, 1, tmp_path, '--resume'))
    assert 'resumed epoch: 0, iter: 4' in output
    assert iterations(stopped) == iterations(straight)


def test_shards_resumed_with_another_world_size_continue_at_the_next_epoch(tmp_path, twelve_images):
    config = write_config(
        tmp_path,
        twelve_images,
        resume_interval=4,
        batch_size=1,
        shards=shards_of(tmp_path, twelve_images))
    work_dir = str(tmp_path / 'run')
    # two processes, stopped by SIGTERM in the first epoch (6 batches each)
    process = launch(config, work_dir, 2, tmp_path, PAUSE_ITER='3', PAUSE_SECONDS='2')
    pause_then_signal(process, work_dir, signal.SIGTERM)
    finish(process, expect=None)
    meta = checkpoint_meta(osp.join(work_dir, 'resume_point.pth'))
    assert (meta['epoch'], meta['iter']) == (0, 4)

    output = finish(launch(config, work_dir, 1, tmp_path, '--resume'))  # one process
    assert ("the rest of epoch 1 cannot be split the same way and is left out; training "
            "continues at the start of epoch 2") in output
    resumed = iterations(work_dir)
    # one process reads 12 batches an epoch: epoch 2 is iterations 13-24, batches 0-11
    assert [resumed[i]['batch'] for i in range(13, 25)] == list(range(12))
    assert all(resumed[i]['epoch'] == 1 for i in range(13, 25)) and max(resumed) == 24
