"""Does SimMIM pretraining on a dataset's own images beat training from scratch on it?

For each seed: SimMIM pretraining -> fine-tuning from its last checkpoint -> test, and the same
fine-tuning from random weights -> test; every stage a ``tools/train.py`` / ``tools/test.py``
subprocess with ``--cfg-options randomness.seed=S``, as a user runs them. Before each
fine-tuning, a kNN probe of the frozen encoder it starts from (the SimMIM checkpoint, or the
random init), a ``tools/analysis/knn_probe.py`` subprocess: what pretraining gives before any
label is used. The test metrics come from the test runs' JSON logs, the probe's from its JSON;
the table gives them per seed and as mean +- std over seeds, with each stage's wall time and
the machine.

A stage that finished (its ``stage.json`` holds the same command) is not run again, so an
interrupted study continues where it stopped.
"""
import glob
import json
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from simmim_mm.checkpoint.atomic import atomic_path

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
INITS = ('simmim', 'scratch')
TIMED_STAGES = ('pretrain', 'probe', 'finetune', 'test')
# the test metrics the table keeps: 4-class top-1, grouped accuracies and per-class recalls
METRIC_PREFIXES = ('accuracy/', 'recall/')
# the probe's metrics the table keeps (its JSON has each class's recall too)
PROBE_METRIC = re.compile(r'^knn\d+/top1$')


class StageError(RuntimeError):
    pass


@dataclass
class StudySettings:
    """What the study runs: configs (paths), seeds, where, and the scaled schedules."""
    pretrain_config: str
    finetune_config: str
    scratch_config: str
    work_dir: str
    seeds: Sequence[int] = (0, )
    pretrain_epochs: Optional[int] = None  # None: the config's
    finetune_epochs: Optional[int] = None
    data_root: Optional[str] = None
    pretrain_options: Dict[str, object] = field(default_factory=dict)
    finetune_options: Dict[str, object] = field(default_factory=dict)
    probe_ks: Sequence[int] = (10, 20)  # the kNN probe's k values
    # which fine-tunings: scratch does not depend on the pretraining, so a study of another
    # pretraining length can leave it out and compare with the scratch rows of another study
    inits: Sequence[str] = INITS
    repo_root: str = REPO_ROOT
    python: str = sys.executable


def schedule_options(config: str, epochs: Optional[int]) -> Dict[str, object]:
    """``--cfg-options`` that stretch a config's epoch-based run to ``epochs``: max_epochs,
    and each lr scheduler's begin, end and T_max by the same factor (warmup stays the same
    fraction of the run; fractional epochs are fine with convert_to_iter_based)."""
    if epochs is None:
        return {}
    if epochs < 1:
        raise ValueError(f'epochs must be at least 1, got {epochs}')
    from mmengine.config import Config
    cfg = Config.fromfile(config, import_custom_modules=False)
    old = cfg.train_cfg.get('max_epochs')
    if not old:
        raise ValueError(f'{config}: train_cfg has no max_epochs (not an epoch-based run)')
    factor = epochs / old
    options: Dict[str, object] = {'train_cfg.max_epochs': epochs}
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for i, scheduler in enumerate(schedulers):
        if not scheduler.get('by_epoch', True):
            raise ValueError(f'{config}: param_scheduler[{i}] counts iterations; '
                             'only epoch-based schedules can be scaled')
        for key in ('begin', 'end', 'T_max'):
            if key in scheduler and scheduler[key] is not None:
                options[f'param_scheduler.{i}.{key}'] = _number(scheduler[key] * factor)
    return options


def _number(value: float):
    return int(round(value)) if abs(value - round(value)) < 1e-9 else round(value, 6)


def data_root_options(config: str, data_root: Optional[str]) -> Dict[str, object]:
    """``--cfg-options`` that point every data loader of a config at ``data_root``."""
    if data_root is None:
        return {}
    from mmengine.config import Config
    cfg = Config.fromfile(config, import_custom_modules=False)
    return {
        f'{split}_dataloader.dataset.data_root': data_root
        for split in ('train', 'val', 'test') if cfg.get(f'{split}_dataloader')
    }


def _cfg_options(options: Dict[str, object]) -> List[str]:
    if not options:
        return []
    return ['--cfg-options'] + [f'{key}={value}' for key, value in options.items()]


def _write_json(path: str, data) -> None:
    with atomic_path(path) as temp, open(temp, 'w') as f:
        json.dump(data, f, indent=2)


def _write_text(path: str, text: str) -> None:
    with atomic_path(path) as temp, open(temp, 'w') as f:
        f.write(text)


def run_stage(name: str, command: List[str], work_dir: str) -> dict:
    """Run one stage's command (its output in ``work_dir/stage.log``) unless ``stage.json``
    records the same command as finished. Returns that record: command and seconds. It runs
    in the caller's working directory, where relative paths of the command and of the configs
    (their ``data_root``) were meant, as for ``tools/train.py`` itself."""
    record_path = osp.join(work_dir, 'stage.json')
    if osp.isfile(record_path):
        with open(record_path) as f:
            record = json.load(f)
        if record.get('command') == command:
            print(f'[study] {name}: done before ({record["seconds"]:.0f} s), not rerun', flush=True)
            return record
    os.makedirs(work_dir, exist_ok=True)
    log = osp.join(work_dir, 'stage.log')
    print(f'[study] {name}: running (log: {log})', flush=True)
    start = time.monotonic()
    with open(log, 'w') as out:
        code = subprocess.call(command, stdout=out, stderr=subprocess.STDOUT)
    seconds = time.monotonic() - start
    if code != 0:
        with open(log) as f:
            tail = ''.join(f.readlines()[-20:])
        raise StageError(f'{name} failed (exit code {code}); its log: {log}\n{tail}')
    record = dict(command=command, seconds=seconds)
    _write_json(record_path, record)
    return record


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint a finished training run saved last (MMEngine's ``last_checkpoint``)."""
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(marker):
        raise StageError(f'{work_dir}: no last_checkpoint; did the training run finish?')
    with open(marker) as f:
        path = f.read().strip()
    if not osp.isfile(path):
        raise StageError(f'{marker} names {path}, which does not exist')
    return path


def test_metrics(work_dir: str) -> Dict[str, float]:
    """The metrics of the newest test run under ``work_dir``: its JSON log
    (``<timestamp>/<timestamp>.json``), the keys starting with METRIC_PREFIXES."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.json')), key=osp.getmtime)
    for path in reversed(logs):
        with open(path) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        for entry in reversed(lines):
            found = {k: float(v) for k, v in entry.items() if k.startswith(METRIC_PREFIXES)}
            if found:
                return found
    raise StageError(f'{work_dir}: no test metrics ({", ".join(METRIC_PREFIXES)}*) in the '
                     'JSON logs of tools/test.py')


def probe_metrics(path: str) -> Dict[str, float]:
    """The kNN top-1 per k (PROBE_METRIC) of the JSON that tools/analysis/knn_probe.py wrote."""
    try:
        with open(path) as f:
            metrics = json.load(f)['metrics']
    except (OSError, ValueError, KeyError) as error:
        raise StageError(f'{path}: no kNN probe result ({error})') from error
    return {k: float(v) for k, v in metrics.items() if PROBE_METRIC.match(k)}


def run_seed(settings: StudySettings, seed: int) -> List[dict]:
    """The pretrain -> probe -> fine-tune -> test and the scratch probe -> fine-tune -> test
    of one seed: one result per init, with its metrics and each stage's seconds."""
    root = osp.join(osp.abspath(settings.work_dir), f'seed{seed}')
    train = [settings.python, osp.join(settings.repo_root, 'tools', 'train.py')]
    test = [settings.python, osp.join(settings.repo_root, 'tools', 'test.py')]
    probe = [settings.python, osp.join(settings.repo_root, 'tools', 'analysis', 'knn_probe.py')]
    seed_option = {'randomness.seed': seed}

    def options(config, epochs, extra):
        return {
            **seed_option,
            **schedule_options(config, epochs),
            **data_root_options(config, settings.data_root),
            **extra
        }

    pretrain, checkpoint = None, None
    if 'simmim' in settings.inits:
        pre_dir = osp.join(root, 'pretrain')
        pretrain = run_stage(
            f'seed {seed} pretrain',
            train + [settings.pretrain_config, '--work-dir', pre_dir] + _cfg_options(
                options(settings.pretrain_config, settings.pretrain_epochs,
                        settings.pretrain_options)), pre_dir)
        checkpoint = last_checkpoint(pre_dir)

    results = []
    configs = dict(simmim=settings.finetune_config, scratch=settings.scratch_config)
    for init in (i for i in INITS if i in settings.inits):
        config = configs[init]
        # the frozen encoder the fine-tuning starts from, with the test runs' options
        eval_options = {
            **seed_option,
            **data_root_options(config, settings.data_root),
            **settings.finetune_options
        }
        probe_dir = osp.join(root, f'probe_{init}')
        probe_json = osp.join(probe_dir, 'knn.json')
        probed = run_stage(
            f'seed {seed} probe ({init})',
            probe + [config, '--out', probe_json, '--k', *map(str, settings.probe_ks)] +
            (['--checkpoint', checkpoint] if init == 'simmim' else []) + _cfg_options(eval_options),
            probe_dir)
        ft_dir = osp.join(root, f'finetune_{init}')
        ft_options = options(config, settings.finetune_epochs, settings.finetune_options)
        if init == 'simmim':
            ft_options['model.backbone.init_cfg.checkpoint'] = checkpoint
        finetune = run_stage(f'seed {seed} fine-tune ({init})',
                             train + [config, '--work-dir', ft_dir] + _cfg_options(ft_options),
                             ft_dir)
        test_dir = osp.join(root, f'test_{init}')
        tested = run_stage(
            f'seed {seed} test ({init})', test +
            [config, last_checkpoint(ft_dir), '--work-dir', test_dir] + _cfg_options(eval_options),
            test_dir)
        seconds = dict(
            probe=probed['seconds'], finetune=finetune['seconds'], test=tested['seconds'])
        if init == 'simmim':
            seconds['pretrain'] = pretrain['seconds']
        metrics = {**test_metrics(test_dir), **probe_metrics(probe_json)}
        results.append(dict(seed=seed, init=init, metrics=metrics, seconds=seconds))
    return results


def mean_std(values: Sequence[float]) -> dict:
    """Mean and sample standard deviation (None for a single value)."""
    values = list(values)
    return dict(
        mean=statistics.fmean(values),
        std=statistics.stdev(values) if len(values) > 1 else None,
        n=len(values))


def summarize(runs: List[dict]) -> dict:
    """Mean +- std over seeds of every metric and stage time per init, and of the per-seed
    difference SimMIM - scratch of every metric."""
    summary = {}
    for init in INITS:
        mine = [r for r in runs if r['init'] == init]
        if not mine:
            continue
        keys = metric_columns(mine)
        stages = [s for s in TIMED_STAGES if all(s in r['seconds'] for r in mine)]
        summary[init] = dict(
            metrics={
                k: mean_std([r['metrics'][k] for r in mine if k in r['metrics']])
                for k in keys
            },
            seconds={s: mean_std([r['seconds'][s] for r in mine])
                     for s in stages})
    by_seed = {(r['seed'], r['init']): r for r in runs}
    seeds = sorted({r['seed'] for r in runs})
    paired = [(by_seed[s, 'simmim'], by_seed[s, 'scratch']) for s in seeds
              if (s, 'simmim') in by_seed and (s, 'scratch') in by_seed]
    if paired:
        keys = metric_columns([a for a, _ in paired])
        summary['simmim - scratch'] = dict(
            metrics={
                k:
                mean_std([
                    a['metrics'][k] - b['metrics'][k] for a, b in paired
                    if k in a['metrics'] and k in b['metrics']
                ])
                for k in keys
            })
    return summary


def _metric_rank(key: str) -> int:
    """4-class top-1 first, then the other accuracies, then the recalls, then the probe's."""
    if key == 'accuracy/top1':
        return 0
    return 1 if key.startswith('accuracy/') else 2 if key.startswith('recall/') else 3


def metric_columns(runs: List[dict]) -> List[str]:
    """Every metric any run reported: top-1, the other accuracies, the recalls, then the kNN
    probe's top-1 per k, each in the order the runs logged them (the classes' order, where
    sorting would put p100 before p33)."""
    seen: List[str] = []
    for run in runs:
        for key in run['metrics']:
            if key not in seen:
                seen.append(key)
    return sorted(seen, key=lambda k: (_metric_rank(k), seen.index(k)))


def _cell(stats: Optional[dict], digits: int = 1) -> str:
    if not stats:
        return '-'
    if stats['std'] is None:
        return f'{stats["mean"]:.{digits}f}'
    return f'{stats["mean"]:.{digits}f} ± {stats["std"]:.{digits}f}'


def markdown_table(report: dict) -> str:
    """The study as Markdown: the settings, one row per seed and init, then mean ± std over
    seeds per init and of the per-seed difference, then the machine."""
    runs, summary = report['runs'], report['summary']
    metrics = metric_columns(runs)
    header = ['seed', 'init'] + metrics + [f'{s} (s)' for s in TIMED_STAGES]
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    for run in runs:
        cells = [str(run['seed']), run['init']]
        cells += [f'{run["metrics"][k]:.1f}' if k in run['metrics'] else '-' for k in metrics]
        cells += [f'{run["seconds"][s]:.0f}' if s in run['seconds'] else '-' for s in TIMED_STAGES]
        lines.append('| ' + ' | '.join(cells) + ' |')
    seeds = len({r['seed'] for r in runs})
    for name, stats in summary.items():
        cells = ['mean (1 seed)' if seeds == 1 else f'mean ± std ({seeds} seeds)', name]
        cells += [_cell(stats['metrics'].get(k)) for k in metrics]
        cells += [_cell(stats.get('seconds', {}).get(s), 0) for s in TIMED_STAGES]
        lines.append('| ' + ' | '.join(cells) + ' |')
    settings = report['settings']

    def epochs(stage):
        value = settings[f'{stage}_epochs']
        return "the config's epochs" if value is None else f'{value} epoch' + 's' * (value > 1)

    def shown(path):  # relative to the repository where it lies inside
        inside = osp.relpath(path, REPO_ROOT)
        return path if inside.startswith('..') else inside

    text = [
        '# SimMIM pretraining vs training from scratch', '',
        'Test metrics in %: `accuracy/top1` the 4-class accuracy, `accuracy/<a>-vs-<b>` the '
        'accuracy over grouped classes, `recall/<class>` each class\'s recall, `knn<k>/top1` '
        'the kNN probe of the frozen encoder before fine-tuning (the SimMIM checkpoint, or the '
        'random init for scratch; k nearest training images vote); std is over seeds (sample '
        'std). Times: wall seconds of each stage.', '',
        f'- pretraining: `{shown(settings["pretrain_config"])}` ({epochs("pretrain")})',
        f'- fine-tuning: `{shown(settings["finetune_config"])}` ({epochs("finetune")})',
        f'- from scratch: `{shown(settings["scratch_config"])}`',
        f'- kNN probe: k = {", ".join(str(k) for k in settings.get("probe_ks", ()))}, the '
        'training images as the bank, both lists through the test pipeline',
        f'- seeds: {", ".join(str(s) for s in settings["seeds"])}', '', *lines, '', '## Machine', ''
    ]
    text += [f'- {key}: {value}' for key, value in report['machine'].items()]
    return '\n'.join(text) + '\n'


def run_study(settings: StudySettings, machine: Optional[dict] = None) -> dict:
    """Run every seed, then write ``study.json`` and ``study.md`` into the work dir (after
    each seed, so that a long study shows its first results early). Returns the report."""
    if not settings.seeds:
        raise ValueError('seeds: give at least one seed')
    if not settings.inits or set(settings.inits) - set(INITS):
        raise ValueError(f'inits: give one or both of {INITS}, got {list(settings.inits)}')
    for name in ('pretrain_config', 'finetune_config', 'scratch_config'):
        path = getattr(settings, name)
        if not osp.isfile(path):
            raise FileNotFoundError(f'{name}: {path} does not exist')
    if machine is None:
        import torch

        from .machine import machine_facts
        machine = machine_facts('cuda' if torch.cuda.is_available() else 'cpu')
    runs: List[dict] = []
    report: dict = {}
    for seed in settings.seeds:
        runs += run_seed(settings, seed)
        report = dict(
            settings=dict(
                pretrain_config=settings.pretrain_config,
                finetune_config=settings.finetune_config,
                scratch_config=settings.scratch_config,
                seeds=list(settings.seeds),
                pretrain_epochs=settings.pretrain_epochs,
                finetune_epochs=settings.finetune_epochs,
                probe_ks=list(settings.probe_ks),
                inits=list(settings.inits),
                data_root=settings.data_root),
            runs=runs,
            summary=summarize(runs),
            machine=machine)
        _write_json(osp.join(settings.work_dir, 'study.json'), report)
        _write_text(osp.join(settings.work_dir, 'study.md'), markdown_table(report))
    return report
