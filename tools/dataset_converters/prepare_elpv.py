"""Prepare ELPV (solar cells, Deitsch et al. 2019) as the published protocol's split: 75% train
/ 25% test, stratified by defect class (p0, p33, p67, p100) and cell type, seeded.

    pip install elpv-dataset   # its data: CC BY-NC-SA 4.0, non-commercial use only
    python tools/dataset_converters/prepare_elpv.py --out data/elpv

Writes the layout of tools/dataset_converters/split_dataset.py (1,968 train / 656 test cells).
"""
import argparse

from simmim_mm.datasets.elpv import CLASSES, elpv_root, read_elpv_labels
from simmim_mm.datasets.split import SplitError, prepare_split, summary


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', default='data/elpv', metavar='DIR', help='where the layout goes')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--elpv-root',
        metavar='DIR',
        help="a folder with ELPV's labels.csv and images/ (default: the installed "
        "elpv-dataset package's data)")
    parser.add_argument(
        '--force', action='store_true', help='replace a different split already in --out')
    return parser.parse_args()


def main():
    args = parse_args()
    try:
        root = args.elpv_root or elpv_root()
        samples = read_elpv_labels(root)
        train, test = prepare_split(args.out, f'{root}/images', samples, 0.25, args.seed, CLASSES,
                                    args.force)
    except SplitError as error:
        raise SystemExit(f'error: {error}') from None
    print(summary(train, test, CLASSES))
    print(f'Wrote {args.out} (ELPV data: CC BY-NC-SA 4.0, non-commercial use only)')


if __name__ == '__main__':
    main()
