"""Show what a SimMIM checkpoint reconstructs: for each IMAGE one picture
original | masked input | reconstruction | reconstruction pasted into the visible pixels,
written to --out as <image name>.png.

    python tools/visualize_reconstruction.py \
        configs/pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py \
        work_dirs/simmim_swin-b/epoch_100.pth photo1.jpg photo2.png --out vis/

CONFIG is the pretraining config of the checkpoint (Swin, SwinV2, ViT, or your own): images are
resized and center-cropped to its input size and masked by its mask generator (with
--mask-ratio instead of its ratio if given), seeded by --seed and the image's position, so the
same command gives the same masks. CHECKPOINT is a file (or URL) with the model's weights in
simmim_mm's names (`state_dict` as written by tools/train.py, or converted model-zoo weights).
Images other than grey or RGB are shown one channel per row (--channels each) by default.
"""
import argparse
import os.path as osp
from typing import List

import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import Compose, default_collate
from mmengine.registry import init_default_scope
from mmengine.runner import CheckpointLoader
from mmengine.utils import mkdir_or_exist
from PIL import Image

import simmim_mm  # noqa: F401  registers simmim_mm
from simmim_mm.registry import MODELS
from simmim_mm.visualization import reconstruction_grid, shows_channelwise

MASK_GENERATORS = ('SimMIMMaskGenerator', 'SeededSimMIMMaskGenerator')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Write what a SimMIM checkpoint reconstructs from masked images')
    parser.add_argument('config', help='the pretraining config of the checkpoint')
    parser.add_argument('checkpoint', help='checkpoint file or URL')
    parser.add_argument('images', nargs='+', metavar='IMAGE', help='image files')
    parser.add_argument('--out', required=True, help='folder for the pictures')
    parser.add_argument(
        '--mask-ratio', type=float, help="fraction of masked blocks (default: the config's)")
    parser.add_argument('--seed', type=int, default=0, help='seed of the masks')
    parser.add_argument(
        '--channels',
        choices=['auto', 'rgb', 'each'],
        default='auto',
        help='show images as RGB / grey pictures or one channel per row '
        '(auto: RGB for 1 or 3 channels, else each)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, help='override config entries')
    return parser.parse_args(argv)


def train_pipeline(cfg: Config) -> list:
    dataset = cfg.train_dataloader.dataset
    while 'pipeline' not in dataset and 'dataset' in dataset:  # dataset wrappers
        dataset = dataset.dataset
    return dataset.get('pipeline', [])


def inference_pipeline(cfg: Config, config_path: str, mask_ratio=None, seed: int = 0) -> Compose:
    """The config's image loading and mask generator around a deterministic resize and
    center crop to the mask generator's input size, masks seeded per image."""
    pipeline = train_pipeline(cfg)
    masks = [t for t in pipeline if t.get('type') in MASK_GENERATORS]
    if not masks:
        raise ValueError(f'{config_path}: train_dataloader.dataset.pipeline has no '
                         f'{" or ".join(MASK_GENERATORS)}, so the mask size is unknown')
    mask = dict(masks[0], type='SeededSimMIMMaskGenerator', seed=seed)
    if mask_ratio is not None:
        mask['mask_ratio'] = mask_ratio
    size = mask.get('input_size', 192)
    h, w = (size, size) if isinstance(size, int) else size
    # the config's decoding (e.g. color_type), but a bad image here is an error, not a skip
    load = next(
        (dict(t)
         for t in pipeline if t.get('type') in ('LoadImageFromFile', 'LoadImageFromFileOrSkip')),
        {})
    load = dict(
        {
            k: v
            for k, v in load.items() if k not in ('on_error', 'max_bad_fraction', 'min_reads')
        },
        type='LoadImageFromFile')
    return Compose([
        load,
        dict(
            type='ResizeEdge',
            scale=max(h, w),
            edge='short',
            backend='pillow',
            interpolation='bilinear'),
        dict(type='CenterCrop', crop_size=(w, h)),
        mask,
        dict(type='PackInputs'),
    ])


def load_model(cfg: Config, checkpoint: str, device: str = 'cpu') -> torch.nn.Module:
    """The config's model with every weight from ``checkpoint``; buffers that converted
    checkpoints leave out (e.g. relative_position_index) keep their built values."""
    model_cfg = dict(cfg.model)
    if cfg.get('data_preprocessor') is not None:  # merged into the model as the Runner does
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    model = MODELS.build(model_cfg)
    state = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu', logger=None)
    state = state.get('state_dict', state)
    state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
    missing, _ = model.load_state_dict(state, strict=False)
    buffers = {name for name, _ in model.named_buffers()}
    missing = [k for k in missing if k not in buffers]
    if missing:
        raise ValueError(
            f'{checkpoint} lacks {len(missing)} weights of the model in the config, e.g. '
            f'{missing[:3]}: it must be a SimMIM pretraining checkpoint of this architecture '
            "with simmim_mm's parameter names (backbone.*, neck.*); convert official or "
            'Hugging Face files first with tools/convert_checkpoint.py')
    model.to(device)
    model.eval()  # no chaining: mmpretrain's Swin.train() returns None
    return model


def output_paths(images: List[str], out: str) -> List[str]:
    paths, used = [], set()
    for i, image in enumerate(images):
        name = osp.splitext(osp.basename(image))[0]
        if name in used:
            name = f'{name}_{i}'
        used.add(name)
        paths.append(osp.join(out, f'{name}.png'))
    return paths


def main(argv=None) -> List[str]:
    args = parse_args(argv)
    for image in args.images:
        if not osp.isfile(image):
            raise FileNotFoundError(f'IMAGE {image} does not exist')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'simmim_mm'))
    pipeline = inference_pipeline(cfg, args.config, args.mask_ratio, args.seed)
    model = load_model(cfg, args.checkpoint, args.device)
    preprocessor = model.data_preprocessor
    mkdir_or_exist(args.out)
    paths = output_paths(args.images, args.out)
    for start in range(0, len(args.images), args.batch_size):
        samples = [
            pipeline(dict(img_path=image, sample_idx=start + i))
            for i, image in enumerate(args.images[start:start + args.batch_size])
        ]
        with torch.no_grad():
            data = preprocessor(default_collate(samples), training=False)
            inputs = data['inputs']
            mask = torch.stack([s.mask for s in data['data_samples']])
            reconstruction = model.reconstruct(inputs, mask)
        channels = inputs.shape[1]
        channelwise = (
            shows_channelwise(channels) if args.channels == 'auto' else args.channels == 'each')
        for i in range(inputs.shape[0]):
            grid = reconstruction_grid(inputs[i:i + 1], reconstruction[i:i + 1], mask[i:i + 1],
                                       preprocessor.mean.flatten(), preprocessor.std.flatten(),
                                       channelwise)
            path = paths[start + i]
            Image.fromarray(grid).save(path)
            print(path)
    return paths


if __name__ == '__main__':
    main()
