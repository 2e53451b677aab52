"""One SimMIM training step (data preprocessing, forward, backward, clipping, optimizer) built
from a config, for simmim_mm or for mmpretrain 1.2.0's SimMIM with the same architecture."""
import copy
import time
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

from simmim_mm.models.algorithms.simmim import encoder_in_channels, encoder_width

PRECISIONS = {'fp32': 'float32', 'bf16': 'bfloat16', 'fp16': 'float16'}
# mmpretrain 1.2.0's own SimMIM Swin recipe: its optimizer settings and data pipeline are
# what the benchmark runs for mmpretrain
MMPRETRAIN_RECIPE = 'mmpretrain::simmim/simmim_swin-base-w6_8xb256-amp-coslr-100e_in1k-192px.py'


def mmpretrain_recipe() -> Config:
    from mmengine.hub import get_config
    return get_config(MMPRETRAIN_RECIPE)


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """The config file with the command's --cfg-options merged in, as tools/train.py reads
    it: what every benchmark process builds its model and pipeline from."""
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def mmpretrain_model_cfg(cfg: Config, encoder: torch.nn.Module) -> dict:
    """mmpretrain's SimMIM with our config's encoder architecture, image size, decoder and
    loss criterion, built from mmpretrain's own classes."""
    model = cfg.model
    check_comparable(cfg, 'mmpretrain')
    backbone = copy.deepcopy(model.backbone)
    backbone.type = 'mmpretrain.SimMIMSwinTransformer'
    patch_size = backbone.get('patch_size', 4)
    return dict(
        type='mmpretrain.SimMIM',
        backbone=backbone,
        neck=dict(
            type='mmpretrain.SimMIMLinearDecoder',
            in_channels=encoder_width(encoder),
            encoder_stride=model.neck.encoder_stride),
        head=dict(
            type='mmpretrain.SimMIMHead',
            patch_size=patch_size,
            loss=dict(
                type='mmpretrain.PixelReconstructionLoss',
                criterion=model.head.get('criterion', 'L1'),
                channel=encoder_in_channels(encoder))),
        data_preprocessor=model_preprocessor(cfg))


def check_comparable(cfg: Config, impl: str) -> None:
    """Raise ValueError where ``impl`` has no counterpart of the config's encoder."""
    backbone_type = cfg.model.backbone.type
    if impl == 'mmpretrain' and backbone_type not in ('SimMIMSwinTransformer',
                                                      'mmpretrain.SimMIMSwinTransformer'):
        raise ValueError(
            f'--compare mmpretrain: model.backbone.type={backbone_type!r} has no counterpart in '
            "mmpretrain's SimMIM (it has Swin; its SimMIM ViT is a plain ViT with an absolute "
            "position embedding, not the paper's BEiT-style ViT)")


def check_precision(device: str, precision: str) -> None:
    if precision not in PRECISIONS:
        raise ValueError(f'precision must be one of {list(PRECISIONS)}, got {precision!r}')
    if device == 'cpu' and precision == 'fp16':
        raise ValueError('precision fp16: CPU autocast trains in bf16; use bf16 or fp32')


def model_preprocessor(cfg: Config) -> Optional[dict]:
    return cfg.model.get('data_preprocessor', cfg.get('data_preprocessor'))


def mask_generator_cfg(cfg: Config) -> dict:
    for step in cfg.train_dataloader.dataset.pipeline:
        if step['type'].split('.')[-1] in ('SimMIMMaskGenerator', 'SeededSimMIMMaskGenerator'):
            return dict(step, type='SimMIMMaskGenerator')
    raise ValueError('train_dataloader.dataset.pipeline has no SimMIMMaskGenerator')


def synthetic_batch(cfg: Config, batch_size: int, seed: int = 0) -> dict:
    """Random uint8 images at the pipeline's input size with masks drawn by its mask
    generator: what the DataLoader hands the model, minus the decoding."""
    from simmim_mm.datasets.transforms import SimMIMMaskGenerator
    mask_cfg = mask_generator_cfg(cfg)
    mask_cfg.pop('type')
    generator = SimMIMMaskGenerator(**mask_cfg)
    height, width = generator.input_size
    channels = cfg.model.backbone.get('in_channels', 3)
    rng = torch.Generator().manual_seed(seed)
    inputs = torch.randint(
        0, 256, (batch_size, channels, height, width), generator=rng, dtype=torch.uint8)
    samples = []
    for _ in range(batch_size):
        sample = DataSample()
        sample.set_mask(torch.from_numpy(generator.generate()))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


class TrainStep:
    """``step()`` runs one training iteration exactly as MMEngine's loop does
    (``model.train_step``), synchronizing the device so that it can be timed. Build one per
    process: see simmim_mm.benchmark.processes."""

    def __init__(self, cfg: Config, impl: str, precision: str, batch_size: int, device: str):
        check_precision(device, precision)
        self.impl, self.device, self.batch_size = impl, device, batch_size
        with DefaultScope.overwrite_default_scope('simmim_mm'):
            from simmim_mm.registry import MODELS
            ours = MODELS.build(dict(cfg.model, data_preprocessor=model_preprocessor(cfg)))
            if impl == 'simmim_mm':
                model, wrapper_cfg = ours, copy.deepcopy(cfg.optim_wrapper)
            elif impl == 'mmpretrain':
                model = MODELS.build(mmpretrain_model_cfg(cfg, ours.backbone))
                wrapper_cfg = mmpretrain_recipe().optim_wrapper
            else:
                raise ValueError(f"impl must be 'simmim_mm' or 'mmpretrain', got {impl!r}")
            model.init_weights()
            self.model = model.to(device).train()
            # both sides get the same mixed-precision wrapper (on GPUs it is MMEngine's
            # AmpOptimWrapper; on CPUs, bf16 autocast): only the model and optimizer differ
            wrapper_cfg.update(type='AnyDeviceAmpOptimWrapper', dtype=PRECISIONS[precision])
            self.optim_wrapper = build_optim_wrapper(self.model, wrapper_cfg)
        self.data = synthetic_batch(cfg, batch_size)

    def step(self) -> float:
        log_vars = self.model.train_step(self.data, self.optim_wrapper)
        synchronize(self.device)
        return log_vars['loss'].item()

    def count_flops(self) -> int:
        """Matmul / conv / attention FLOPs of one forward + backward, per image."""
        from torch.utils.flop_counter import FlopCounterMode
        with FlopCounterMode(display=False) as counter:
            self.step()
        return counter.get_total_flops() // self.batch_size


def synchronize(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def matmul_rate(device: str, precision: str, size: int = 2048, repeats: int = 10) -> float:
    """The machine's dense matmul rate (FLOP/s, best of ``repeats``) for this dtype."""
    dtype = getattr(torch, PRECISIONS[precision])
    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)
    best = float('inf')
    for _ in range(repeats + 1):
        start = time.perf_counter()
        a @ b
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best
