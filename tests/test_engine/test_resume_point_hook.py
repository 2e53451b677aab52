"""ResumePointHook: saves by the clock or every N iterations and names the file in
last_checkpoint; stays off under MMEngine's epoch loop, which cannot resume mid-epoch; dataloader
workers outlive a SIGTERM that is not their parent's (PyTorch's would die of it)."""
import os.path as osp
import subprocess
import sys
import textwrap
from types import SimpleNamespace
from unittest import mock

import pytest
from mmengine.logging import MessageHub, MMLogger
from mmengine.runner import EpochBasedTrainLoop, IterBasedTrainLoop

from simmim_mm.engine.hooks import resume_point_hook
from simmim_mm.engine.hooks.resume_point_hook import ResumePointHook
from simmim_mm.engine.loops import ResumableEpochBasedTrainLoop

from conftest import REPO_ROOT


def fake_runner(tmp_path, loop_type=ResumableEpochBasedTrainLoop):
    saved = []
    runner = SimpleNamespace(
        iter=0,
        epoch=0,
        work_dir=str(tmp_path),
        logger=MMLogger.get_current_instance(),
        message_hub=MessageHub.get_instance('resume-point-test'),
        train_loop=mock.Mock(spec=loop_type, stop_training=False),
        save_checkpoint=lambda out_dir, filename, **kwargs: saved.append(
            (runner.iter + 1, osp.join(out_dir, filename), kwargs)))
    return runner, saved


def run_iterations(hook, runner, count, clock=None):
    for i in range(count):
        runner.iter = i
        if clock is not None:
            clock.now = (i + 1) * 60.0  # each iteration takes a minute
        hook.after_train_iter(runner, i)


def test_every_interval_iterations(tmp_path):
    runner, saved = fake_runner(tmp_path)
    hook = ResumePointHook(interval=3, signals=())
    hook.before_train(runner)
    run_iterations(hook, runner, 10)
    assert [s[0] for s in saved] == [3, 6, 9]
    path = osp.join(str(tmp_path), 'resume_point.pth')
    assert all(s[1] == path for s in saved)
    # a checkpoint of the whole state, labelled by iteration (epoch, iter of the next one)
    assert saved[0][2] == dict(save_optimizer=True, save_param_scheduler=True, by_epoch=False)
    assert open(osp.join(str(tmp_path), 'last_checkpoint')).read() == path


def test_every_minutes_of_training_counting_other_checkpoints(tmp_path):
    clock = SimpleNamespace(now=0.0)
    runner, saved = fake_runner(tmp_path)
    hook = ResumePointHook(minutes=4, signals=())
    with mock.patch.object(resume_point_hook.time, 'monotonic', lambda: clock.now):
        hook.before_train(runner)
        run_iterations(hook, runner, 6, clock)  # saves when 4 min have passed: iteration 4
        hook.before_save_checkpoint(runner, {})  # a periodic checkpoint at 6 min restarts it
        runner.iter = 6
        for i in range(6, 12):
            runner.iter, clock.now = i, (i + 1) * 60.0
            hook.after_train_iter(runner, i)
    # 4 min into the run (iteration 4), then 4 min after the periodic checkpoint at 6 min
    assert [s[0] for s in saved] == [4, 10]


def test_stays_off_under_mmengines_epoch_loop(tmp_path):
    """MMEngine's loop restarts a resumed epoch: a mid-epoch checkpoint would train its first
    batches twice, so none is written."""
    runner, saved = fake_runner(tmp_path, EpochBasedTrainLoop)
    hook = ResumePointHook(interval=1)
    with mock.patch.object(runner.logger, 'warning') as warning:
        hook.before_train(runner)
    assert "train_cfg.type='ResumableEpochBasedTrainLoop'" in warning.call_args[0][0]
    hook.received = 15
    run_iterations(hook, runner, 3)
    assert saved == [] and not runner.train_loop.stop_training
    assert hook._previous_handlers == {}  # SIGTERM keeps its default: the run just ends

    runner, saved = fake_runner(tmp_path, IterBasedTrainLoop)  # resumes mid-way on its own
    hook = ResumePointHook(interval=2, signals=())
    hook.before_train(runner)
    run_iterations(hook, runner, 2)
    assert len(saved) == 1


@pytest.mark.parametrize('kwargs, field', [(dict(interval=0), 'interval'),
                                           (dict(minutes=0), 'minutes'),
                                           (dict(signals=['SIGNOPE']), 'SIGNOPE')])
def test_bad_arguments_are_named(kwargs, field):
    with pytest.raises(ValueError, match=field):
        ResumePointHook(**kwargs)


# A worker is sent SIGTERM by another process, as Slurm signals every process of a job.
WORKER_SIGTERM = textwrap.dedent('''
    import os, subprocess, sys, time
    from torch.utils.data import DataLoader
    from simmim_mm.engine.worker_signals import shield_workers_from_stop_signals

    class Pids:
        def __len__(self):
            return 400

        def __getitem__(self, index):
            time.sleep(0.01)
            return os.getpid()

    loader = DataLoader(Pids(), batch_size=2, num_workers=2, persistent_workers=True)
    if sys.argv[1] == 'shielded':
        shield_workers_from_stop_signals(loader)
    batches = iter(loader)
    pids = {int(pid) for _ in range(4) for pid in next(batches)}
    subprocess.run(['kill', '-TERM', *map(str, pids)], check=True)
    time.sleep(0.5)
    count = sum(1 for _ in batches)
    print('workers', len(pids), 'batches after', count)
''')


def test_workers_outlive_a_sigterm_not_from_their_parent(tmp_path):
    script = tmp_path / 'worker_sigterm.py'
    script.write_text(WORKER_SIGTERM)

    def run(mode):
        return subprocess.run([sys.executable, str(script), mode],
                              capture_output=True,
                              text=True,
                              cwd=REPO_ROOT,
                              timeout=120)

    shielded = run('shielded')
    # the epoch finishes, and the process exits (its workers still end on its SIGTERM)
    assert shielded.returncode == 0, shielded.stderr[-2000:]
    assert 'workers 2 batches after 196' in shielded.stdout
    # what the shield is for: PyTorch's workers die of it and the loader raises
    plain = run('plain')
    assert plain.returncode != 0
    assert 'DataLoader worker' in plain.stderr
