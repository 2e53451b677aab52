"""Per-channel mean and std of a folder of images (or of an annotation file's list), in the
images' own units, and the data preprocessor settings to put in a config.

    python tools/analysis/dataset_stats.py /data/xray --color-type unchanged
    python tools/analysis/dataset_stats.py data/elpv/meta/train.txt --data-prefix data/elpv/images

Images are decoded as training decodes them (LoadImageFromFileOrSkip with the same
``--color-type``); unreadable ones are skipped and listed. Three channels are reported in RGB
order with ``to_rgb=True`` (the loader gives BGR, the preprocessor swaps it first), any other
count in the loader's order with ``to_rgb=False``; more than 3 (or 2) channels need simmim_mm's
MultiChannelDataPreprocessor, as mmengine's takes 1 or 3 mean / std values.
"""
import argparse
import os.path as osp
import sys

import numpy as np

from simmim_mm.datasets.statistics import dataset_statistics
from simmim_mm.datasets.transforms import LoadImageFromFileOrSkip

# mmpretrain CustomDataset's extensions, and .tiff (give CustomDataset `extensions` to train)
EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        'source',
        help='a folder of images (searched recursively), or an annotation file: one image '
        'path per line, optionally followed by a class index')
    parser.add_argument(
        '--color-type',
        default='color',
        choices=['color', 'grayscale', 'unchanged'],
        help="as LoadImageFromFileOrSkip's color_type in the training pipeline: 'unchanged' "
        "keeps 16-bit values and every band (default: 'color', 3-channel 8-bit)")
    parser.add_argument(
        '--data-prefix',
        default='',
        help="the folder an annotation file's paths are relative to (CustomDataset's "
        'data_prefix)')
    parser.add_argument(
        '--max-images',
        type=int,
        help='read at most this many images, a seeded random choice (default: all)')
    parser.add_argument('--seed', type=int, default=0, help='for --max-images')
    return parser.parse_args(argv)


def list_samples(source: str, data_prefix: str) -> list:
    """The image paths of a folder or annotation file, as mmpretrain's CustomDataset lists
    them for training."""
    from mmpretrain.datasets import CustomDataset
    if osp.isdir(source):
        kwargs = dict(data_prefix=source, with_label=False)
    elif osp.isfile(source):
        lines = [line.strip() for line in open(source) if line.strip()]
        labelled = bool(lines) and all(
            len(line.rsplit(' ', 1)) == 2 and line.rsplit(' ', 1)[1].isdigit() for line in lines)
        kwargs = dict(ann_file=source, data_prefix=data_prefix, with_label=labelled)
    else:
        raise FileNotFoundError(f'no folder or annotation file {source}')
    dataset = CustomDataset(extensions=EXTENSIONS, lazy_init=True, **kwargs)
    return dataset.load_data_list()


def numbers(values) -> str:
    return '[' + ', '.join(f'{v:.6g}' for v in values) + ']'


def main(argv=None):
    args = parse_args(argv)
    samples = list_samples(args.source, args.data_prefix)
    if args.max_images is not None and args.max_images < len(samples):
        chosen = np.random.default_rng(args.seed).choice(len(samples), args.max_images, False)
        samples = [samples[k] for k in sorted(chosen)]
    loader = LoadImageFromFileOrSkip(color_type=args.color_type, max_bad_fraction=1.0)
    stats, bad = dataset_statistics(samples, loader)
    for path, reason in bad:
        print(f'skipped {path}: {reason}', file=sys.stderr)
    if not stats.images:
        sys.exit(f'none of the {len(samples)} images of {args.source} could be read')
    to_rgb = stats.channels == 3
    order = slice(None, None, -1) if to_rgb else slice(None)
    mean, std = numbers(stats.mean[order]), numbers(stats.std[order])
    print(f'{stats.images} images read ({", ".join(stats.dtypes)}), {len(bad)} skipped; '
          f'{stats.channels} channel(s), ' + ('in RGB order' if to_rgb else "in the loader's "
                                              'order'))
    print(f'mean {mean}\nstd  {std}')
    # mmengine's preprocessor takes 1 or 3 values; simmim_mm's any number
    many = stats.channels not in (1, 3)
    kind = "type='MultiChannelDataPreprocessor', " if many else ''
    print('\nFor the config:')
    print(f'data_preprocessor = dict({kind}mean={mean}, std={std}, to_rgb={to_rgb})')
    print(f'model = dict(backbone=dict(in_channels={stats.channels}))')
    print(f"and color_type='{args.color_type}' in LoadImageFromFileOrSkip; as --cfg-options:")
    print(('data_preprocessor.type=MultiChannelDataPreprocessor ' if many else '') +
          f'data_preprocessor.mean={mean.replace(" ", "")} '
          f'data_preprocessor.std={std.replace(" ", "")} data_preprocessor.to_rgb={to_rgb} '
          f'model.backbone.in_channels={stats.channels} '
          f'train_dataloader.dataset.pipeline.0.color_type={args.color_type}')


if __name__ == '__main__':
    main()
