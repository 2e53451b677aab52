"""Each implementation's training step timed in fresh processes of its own, as a training run
has it.

Two models stepping in one process can slow each other down: on a 2-core AMX Xeon (Swin-B,
batch 4, bf16), interleaving simmim_mm's and mmpretrain's steps in one process measured 1.21
and 0.81 images/s, where each alone ran at 3-3.7. And one process is not every process: on a
2-core EPYC VM the same Swin-T step ran at 0.62 s in one fresh process and 0.73-0.75 s in
others, steady within each. So the tool times rounds: in each round every implementation gets
a fresh (spawned) process that builds its model, warms up and times consecutive steps, one
process running at a time, the order of the implementations alternating between rounds
(ABBA), and the rate comes from the steps of all rounds.

The harness is checked against the plainest measurement there is: ``standalone_loop`` times a
``model.train_step`` loop over the same model and batch in yet another fresh process, with no
per-step timer, no FLOP counter and no peak-memory reading.
"""
import multiprocessing
import os
import pickle
import time
import traceback
from dataclasses import dataclass
from typing import Dict, Optional


@dataclass(frozen=True)
class StepSpec:
    """What a process needs to build one implementation's training step."""
    config: str
    cfg_options: Optional[dict]
    impl: str
    precision: str
    batch_size: int
    device: str


def _build(spec: StepSpec):
    """The training step, and the resident memory before it was built."""
    from mmengine.logging import MMLogger

    from simmim_mm.benchmark.peak_memory import resident_bytes
    from simmim_mm.benchmark.train_step import TrainStep, load_config
    # MMEngine logs every parameter's optimizer options at INFO; the report is what matters
    MMLogger.get_current_instance().setLevel('WARNING')
    cfg = load_config(spec.config, spec.cfg_options)
    before = resident_bytes()
    return TrainStep(cfg, spec.impl, spec.precision, spec.batch_size, spec.device), before


def _run(conn, target, *args) -> None:
    """Child: send ``target(*args)``, or the exception it raised (as a RuntimeError if it
    cannot be pickled), to the parent."""
    try:
        conn.send(('done', target(*args)))
    except BaseException as error:  # reported to the parent, not lost in the child
        text = traceback.format_exc()
        try:
            pickle.dumps(error)
        except Exception:
            error = RuntimeError(f'{type(error).__name__}: {error}')
        conn.send(('error', (error, text)))
    finally:
        conn.close()


def timed_steps(spec: StepSpec, warmup: int, steps: int, memory: bool, flops: bool) -> dict:
    """Build, warm up, time ``steps`` steps one by one; with ``memory`` the peak memory of
    building and warming up, with ``flops`` the train FLOPs per image (one more step, after
    the timed ones)."""
    import torch

    from simmim_mm.benchmark.peak_memory import cuda_peak_bytes, peak_resident_bytes
    train_step, before = _build(spec)
    for _ in range(warmup):
        train_step.step()
    result = dict(pid=os.getpid(), threads=torch.get_num_threads())
    if memory:
        result['peak_memory_bytes'] = (
            cuda_peak_bytes(train_step)
            if spec.device.startswith('cuda') else peak_resident_bytes() - before)
    seconds = []
    for _ in range(steps):
        start = time.perf_counter()
        train_step.step()
        seconds.append(time.perf_counter() - start)
    result['seconds_per_step'] = seconds
    if flops:
        result['train_flops_per_image'] = train_step.count_flops()
    return result


def plain_loop(spec: StepSpec, warmup: int, steps: int) -> dict:
    """A plain training loop, timed from its first to its last step."""
    from simmim_mm.benchmark.train_step import synchronize
    train_step, _ = _build(spec)
    model, optim_wrapper, data = train_step.model, train_step.optim_wrapper, train_step.data
    for _ in range(warmup):
        model.train_step(data, optim_wrapper)
    synchronize(spec.device)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_step(data, optim_wrapper)
    synchronize(spec.device)
    seconds = time.perf_counter() - start
    return dict(
        pid=os.getpid(),
        steps=steps,
        seconds=seconds,
        images_per_s=spec.batch_size * steps / seconds)


def in_fresh_process(target, spec: StepSpec, *args):
    """``target(spec, *args)`` in a freshly spawned process; its exception is raised here."""
    context = multiprocessing.get_context('spawn')
    conn, child_conn = context.Pipe(duplex=False)
    process = context.Process(target=_run, args=(child_conn, target, spec) + args, daemon=True)
    process.start()
    child_conn.close()
    try:
        kind, payload = conn.recv()
    except EOFError:
        process.join(10)
        raise RuntimeError(f'the {spec.impl} benchmark process ended without a result '
                           f'(exit code {process.exitcode}; out of memory?)') from None
    finally:
        conn.close()
    process.join()
    if kind == 'error':
        error, text = payload
        if hasattr(error, 'add_note'):
            error.add_note(f'in the {spec.impl} benchmark process:\n{text}')
        raise error
    return payload


def measure_in_processes(specs: Dict[str, StepSpec],
                         warmup: int,
                         steps: int,
                         rounds: int,
                         memory: bool = True,
                         target=None) -> Dict[str, dict]:
    """``rounds`` rounds of one fresh process per implementation, one process at a time, the
    order alternating (ABBA); peak memory and FLOPs come from each one's first process.
    ``target(spec, warmup, steps, memory, flops)`` measures in each process (default
    :func:`timed_steps`; simmim_mm.benchmark.inference times encoder forwards with it).
    Returns {name: {'seconds_per_step': all rounds' steps, 'processes': [{'pid',
    'seconds_per_step'}, ...], 'peak_memory_bytes', 'train_flops_per_image', 'threads'}}."""
    target = target or timed_steps
    names = list(specs)
    results = {name: dict(processes=[]) for name in names}
    for round_ in range(rounds):
        for name in (names if round_ % 2 == 0 else names[::-1]):
            first = round_ == 0
            measured = in_fresh_process(target, specs[name], warmup, steps, memory and first, first)
            processes = results[name]['processes']
            # per-step timings (wall; the inference target's CPU time too) stay per process
            processes.append(
                dict(
                    pid=measured.pop('pid'),
                    **{
                        key: measured.pop(key)
                        for key in list(measured) if key.endswith('seconds_per_step')
                    }))
            results[name].update(measured)
    for result in results.values():
        result['seconds_per_step'] = [
            seconds for process in result['processes'] for seconds in process['seconds_per_step']
        ]
    return results


def standalone_loop(spec: StepSpec, warmup: int, steps: int) -> dict:
    """Images/s of a plain ``model.train_step`` loop over ``steps`` steps after ``warmup``,
    in a fresh process: {'pid', 'steps', 'seconds', 'images_per_s'}."""
    return in_fresh_process(plain_loop, spec, warmup, steps)


def agreement(images_per_s: float, standalone_images_per_s: float, tolerance: float) -> dict:
    """Whether the tool's rate is within ``tolerance`` (relative) of the standalone loop's."""
    ratio = images_per_s / standalone_images_per_s
    return dict(ratio=ratio, agrees=abs(ratio - 1) <= tolerance)
