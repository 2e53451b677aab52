"""List, describe and download the published SimMIM checkpoints (configs/metafile.yml).

    python tools/model_zoo.py list
    python tools/model_zoo.py info simmim_vit-base-p16_16xb128-amp-step-800e_in1k-224px
    python tools/model_zoo.py download simmim_vit-base-p16_16xb128-amp-step-800e_in1k-224px \\
        --convert
    python tools/model_zoo.py table          # README's model-zoo table, from the metafile

Downloads go to $SIMMIM_MM_CACHE (default ~/.cache/simmim_mm/checkpoints), resume where a
previous attempt stopped and are verified against the published sha256 where one is known.
"""
import argparse
import os.path as osp
import sys

from simmim_mm.checkpoint import CheckpointError
from simmim_mm.checkpoint.model_zoo import (
    MODEL_INDEX,
    DownloadError,
    cache_dir,
    describe,
    download_model,
    get_model,
    load_models,
    readme_table,
    top1,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--index', default=MODEL_INDEX, help='model-index.yml to read')
    commands = parser.add_subparsers(dest='command', required=True)
    commands.add_parser('list', help='one line per model')
    commands.add_parser('table', help="print README's model-zoo table")
    info = commands.add_parser('info', help='everything the metafile says about a model')
    info.add_argument('name')
    download = commands.add_parser('download', help='download a model into the cache')
    download.add_argument('name')
    download.add_argument(
        '--convert', action='store_true', help='also convert it for its simmim_mm config')
    download.add_argument('--root', help=f'cache directory (default: {cache_dir()})')
    download.add_argument('--no-progress', action='store_true')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        if args.command == 'list':
            for m in load_models(args.index):
                meta = m.get('Metadata') or {}
                print(f'{m["Name"]:42} {meta.get("Architecture", ""):22} '
                      f'{str(top1(m) or "-"):6} {m.get("Config") or "-"}')
        elif args.command == 'table':
            print(readme_table(load_models(args.index)), end='')
        elif args.command == 'info':
            for key, value in describe(get_model(args.name, args.index)).items():
                print(f'{key:16} {"-" if value is None else value}')
        else:
            path = download_model(
                args.name,
                convert=args.convert,
                root=args.root,
                progress=not args.no_progress,
                index=args.index)
            print(osp.abspath(path))
    except (KeyError, ValueError, DownloadError, CheckpointError) as error:
        print(f'error: {error.args[0] if isinstance(error, KeyError) else error}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
