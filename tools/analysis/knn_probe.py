"""kNN probe of a frozen encoder: the fine-tuning config's backbone, loaded with a SimMIM
pretraining checkpoint as fine-tuning loads it (or random weights without one), embeds the
config's training and test lists through the test pipeline; each test image gets the weighted
vote of its k nearest training images (cosine, temperature 0.07). Prints and writes (--out)
top-1 and each class's recall, in %, per k. fp32 on the CPU, seeded by randomness.seed.

    python tools/analysis/knn_probe.py \\
        configs/elpv/swin-demo_simmim-40e-pre_1xb32-coslr-30e_elpv-96px.py \\
        --checkpoint work_dirs/simmim_swin-demo_1xb8-coslr-40e_elpv-96px/epoch_40.pth \\
        --out work_dirs/knn_probe.json

Without --checkpoint, the config's own model.backbone.init_cfg.checkpoint, or random weights
if it names none. The logic: simmim_mm/evaluation/frozen_probe.py.
"""
import argparse
import json
import os.path as osp
import sys

from mmengine.config import DictAction

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)  # simmim_mm of this checkout, as tools/train.py sees it

from simmim_mm.checkpoint.atomic import atomic_path  # noqa: E402
from simmim_mm.evaluation.frozen_probe import knn_probe  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='kNN probe of a frozen encoder')
    parser.add_argument('config', help='the fine-tuning (classification) config')
    parser.add_argument(
        '--checkpoint', help='a SimMIM pretraining checkpoint (default: the config\'s, or none)')
    parser.add_argument('--k', type=int, nargs='+', default=[10, 20], help='default: 10 20')
    parser.add_argument('--temperature', type=float, default=0.07)
    parser.add_argument('--out', help='write the result here as JSON')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='override settings of the config, as tools/train.py')
    return parser.parse_args(argv)


def format_result(result: dict) -> str:
    lines = [
        f'kNN probe of {result["config"]}',
        f'init: {result["checkpoint"] or "random weights"} (seed {result["seed"]}); '
        f'{result["train_images"]} training images as the bank, {result["test_images"]} test '
        f'images, {result["feature_dim"]} features'
    ]
    lines += [f'{key}: {value:.2f}' for key, value in result['metrics'].items()]
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    result = knn_probe(args.config, args.checkpoint, args.k, args.temperature, args.cfg_options)
    print(format_result(result))
    if args.out:
        with atomic_path(args.out) as temp:
            with open(temp, 'w') as f:
                json.dump(result, f, indent=2)
        print(f'written to {args.out}')
    return result


if __name__ == '__main__':
    main()
