"""Write a folder of images (or a list of them) as WebDataset tar shards with an index.json.

    python tools/dataset_converters/images_to_shards.py data/imagenet/train data/in1k-shards \
        --max-shard-size 1GB --workers 8

Interrupted, the same command continues where it stopped; unreadable images are skipped
and listed in the index. ``--index-only`` writes index.json for shards made elsewhere.
"""
import argparse
import os.path as osp
import re

from simmim_mm.datasets.shards.index import INDEX_NAME, write_index
from simmim_mm.datasets.shards.writer import count_samples, list_images, write_shards

UNITS = dict(B=1, KB=10**3, MB=10**6, GB=10**9, TB=10**12)


def byte_size(text: str) -> int:
    match = re.fullmatch(r'\s*(\d+(?:\.\d+)?)\s*([KMGT]?B)\s*', text.upper())
    if not match:
        raise argparse.ArgumentTypeError(f'not a size like 500MB or 1GB: {text!r}')
    return int(float(match[1]) * UNITS[match[2]])


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        'source',
        help='a folder of images (searched recursively); with '
        '--index-only, the shards')
    parser.add_argument('out_dir', nargs='?', help='where the shards and index.json go')
    parser.add_argument(
        '--list',
        help='a text file of image paths relative to the source '
        'folder, one per line, instead of all images under it')
    parser.add_argument('--prefix', default='shards', help='shard names: PREFIX-000000.tar')
    parser.add_argument('--samples-per-shard', type=int, default=1000)
    parser.add_argument(
        '--max-shard-size',
        type=byte_size,
        help='close a shard before it passes this size (e.g. 1GB)')
    parser.add_argument(
        '--workers', type=int, default=1, help='processes that check the images decode')
    parser.add_argument(
        '--index-only',
        nargs='+',
        metavar='SHARD',
        help='only write index.json (into out_dir, or beside the shards) '
        'for these existing shards')
    return parser.parse_args()


def main():
    args = parse_args()
    if args.index_only:
        shards = [args.source] + args.index_only
        out_dir = args.out_dir or osp.dirname(shards[0])
        write_index(
            osp.join(out_dir, INDEX_NAME),
            {osp.basename(path): count_samples(path)
             for path in shards})
        print(f'Wrote {osp.join(out_dir, INDEX_NAME)} for {len(shards)} shards')
        return
    if args.out_dir is None:
        raise SystemExit('out_dir: give the folder for the shards')
    if not osp.isdir(args.source):
        raise SystemExit(f'source: {args.source} is not a folder')
    if args.list:
        with open(args.list) as file:
            files = [line.strip() for line in file if line.strip()]
    else:
        files = list_images(args.source)
    if not files:
        raise SystemExit(f'no images in {args.list or args.source}')
    shards = write_shards(args.source, files, args.out_dir, args.prefix, args.samples_per_shard,
                          args.max_shard_size, args.workers)
    print(f'{sum(shards.values())} images in {len(shards)} shards: '
          f'{osp.join(args.out_dir, args.prefix)}-{{{0:06d}..{len(shards) - 1:06d}}}.tar')


if __name__ == '__main__':
    main()
