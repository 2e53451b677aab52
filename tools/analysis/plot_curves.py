"""Plot a run's curves (loss, lr, kNN top-1, validation error, ...) from its JSON logs to a PNG.

    python tools/analysis/plot_curves.py work_dirs/simmim_demo --out curves.png
    python tools/analysis/plot_curves.py RUN_A RUN_B --keys loss knn/top1 --out cmp.png

Each RUN is a work dir (all its runs' <timestamp>/vis_data/scalars.json, so a resumed run is
one curve) or one scalars.json / <timestamp>.json file. One panel per key, x = iteration;
by default every key among loss, lr, knn/top1 and reconstruction/error that the logs hold.
"""
import argparse
import glob
import json
import os.path as osp
from typing import Dict, List, Sequence, Tuple

DEFAULT_KEYS = ('loss', 'lr', 'knn/top1', 'reconstruction/error')
Curves = Dict[str, Dict[int, float]]  # key -> {step: value}


def log_files(run: str) -> List[str]:
    if osp.isfile(run):
        return [run]
    files = sorted(glob.glob(osp.join(run, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise FileNotFoundError(f'{run}: no <timestamp>/vis_data/scalars.json in it (is it a '
                                'work dir of tools/train.py, or a JSON log file?)')
    return files


def load_curves(run: str) -> Curves:
    """Every numeric scalar of the run by step; later runs (resumes) win on the same step."""
    curves: Curves = {}
    for path in log_files(run):
        with open(path) as f:
            for line in f:
                record = json.loads(line)
                step = record.get('step', record.get('iter'))
                for key, value in record.items():
                    if key not in ('step', 'iter', 'epoch') and isinstance(value, (int, float)):
                        curves.setdefault(key, {})[step] = value
    return curves


def pick_keys(runs: Sequence[Tuple[str, Curves]], keys=None) -> List[str]:
    available = sorted({key for _, curves in runs for key in curves})
    if keys is None:
        keys = [key for key in DEFAULT_KEYS if key in available]
        if not keys:
            raise ValueError(f'none of {list(DEFAULT_KEYS)} is logged; choose --keys from '
                             f'{available}')
        return keys
    missing = [key for key in keys if key not in available]
    if missing:
        raise ValueError(f'--keys {missing} not in the logs; they hold {available}')
    return list(keys)


def plot_curves(runs: Sequence[Tuple[str, Curves]], keys: Sequence[str], out: str) -> str:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(keys), 1, figsize=(7, 2.6 * len(keys)), squeeze=False)
    for ax, key in zip(axes[:, 0], keys):
        for label, curves in runs:
            if key in curves:
                steps = sorted(curves[key])
                ax.plot(
                    steps, [curves[key][s] for s in steps],
                    label=label,
                    marker='o' if len(steps) < 20 else None,
                    linewidth=1)
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        if len(runs) > 1:
            ax.legend()
    axes[-1, 0].set_xlabel('iteration')
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description='Plot training curves from JSON logs')
    parser.add_argument('runs', nargs='+', metavar='RUN', help='work dir or JSON log')
    parser.add_argument(
        '--keys',
        nargs='+',
        help=f'what to plot (default: those of '
        f'{", ".join(DEFAULT_KEYS)} in the logs)')
    parser.add_argument('--out', default='curves.png', help='PNG to write')
    args = parser.parse_args(argv)
    runs = [(osp.basename(osp.normpath(run)), load_curves(run)) for run in args.runs]
    path = plot_curves(runs, pick_keys(runs, args.keys), args.out)
    print(path)
    return path


if __name__ == '__main__':
    main()
