"""Convert a SimMIM checkpoint from microsoft/SimMIM, Hugging Face or mmpretrain into one that
a configs/pretrain/ config loads unchanged (encoder, mask token and decoder), or an official
fine-tuned classifier into an mmpretrain classifier checkpoint.

    python tools/convert_checkpoint.py simmim_pretrain__swin_base__img192_window6__100ep.pth \
        work_dirs/simmim_swin-b_100e.pth --from official
    python tools/convert_checkpoint.py pytorch_model.bin swin-b_hf.pth --from hf \
        --config configs/pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py

Without --config the weights are matched against the configs that configs/metafile.yml names
(each model's Config) of the same width, in the metafile's order; the first they fit is used.
An official fine-tuned classifier (``head.*``, no ``encoder.``) becomes an mmpretrain
ImageClassifier checkpoint (``backbone.*``, ``head.fc.*``); give --config an mmpretrain
classifier config to check it too. Nothing is written unless every key and shape fits.
"""
import argparse
import sys

from simmim_mm.checkpoint import SOURCES, CheckpointError, convert_checkpoint


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='checkpoint to convert (.pth / .bin / .safetensors)')
    parser.add_argument('dst', help='where to write the converted checkpoint')
    parser.add_argument(
        '--from', dest='source', required=True, choices=sorted(SOURCES), help='layout of SRC')
    parser.add_argument(
        '--config',
        help='config whose model the result must fit '
        '(default: the first config in configs/metafile.yml it fits)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        config = convert_checkpoint(args.src, args.dst, args.source, args.config)
    except CheckpointError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    fits = f', fits {config}' if config else ''
    print(f'wrote {args.dst} (from {args.source}{fits})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
