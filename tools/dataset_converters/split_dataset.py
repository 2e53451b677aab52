"""Split labelled images into a seeded, stratified train / test layout for fine-tuning.

    python tools/dataset_converters/split_dataset.py --labels labels.csv --images my_images \
        --out data/mine --stratify-by group
    python tools/dataset_converters/split_dataset.py --class-folders my_images --out data/mine

Writes <out>/images/, meta/train.txt, meta/test.txt, meta/classes.txt and meta/split.csv
(mmpretrain's CustomDataset reads them); the rule is in simmim_mm/datasets/split.py.
"""
import argparse

from simmim_mm.datasets.split import (
    SplitError,
    prepare_split,
    read_class_folders,
    read_labels_csv,
    summary,
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        '--labels', metavar='CSV', help='a CSV with a header of at least path,label')
    source.add_argument(
        '--class-folders', metavar='DIR', help='a folder with one subfolder of images per class')
    parser.add_argument(
        '--images', metavar='DIR', help="the folder the CSV's paths are relative to")
    parser.add_argument('--out', required=True, metavar='DIR', help='where the layout goes')
    parser.add_argument('--test-fraction', type=float, default=0.25)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--stratify-by',
        nargs='+',
        default=[],
        metavar='COL',
        help='CSV columns to stratify by, jointly with the label (e.g. group)')
    parser.add_argument(
        '--classes',
        nargs='+',
        metavar='NAME',
        help='the class-index order (default: the labels sorted)')
    parser.add_argument(
        '--force', action='store_true', help='replace a different split already in --out')
    args = parser.parse_args()
    if args.labels and not args.images:
        parser.error('--labels needs --images, the folder its paths are relative to')
    if args.class_folders and (args.images or args.stratify_by):
        parser.error('--class-folders takes neither --images nor --stratify-by')
    return args


def main():
    args = parse_args()
    try:
        if args.labels:
            images, samples = args.images, read_labels_csv(args.labels, args.images,
                                                           args.stratify_by)
        else:
            images, samples = args.class_folders, read_class_folders(args.class_folders)
        classes = args.classes or sorted({s.label for s in samples})
        train, test = prepare_split(args.out, images, samples, args.test_fraction, args.seed,
                                    classes, args.force)
    except SplitError as error:
        raise SystemExit(f'error: {error}') from None
    print(summary(train, test, classes))
    print(f'Wrote {args.out}/meta/train.txt, test.txt, classes.txt, split.csv and images/')


if __name__ == '__main__':
    main()
