"""Shared pieces of the CUDA tests: the skip marker, tiny SimMIM models and their inputs.

These tests run where CUDA exists (`bash tools/gpu_check.sh run` on the GPU machine) and are
skipped with a reason everywhere else, CI included."""
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from simmim_mm.registry import MODELS


@pytest.fixture
def cpu_only():
    """Overrides the autouse fixture of this name in tests/conftest.py, which hides the GPUs
    from MMEngine and from subprocesses: these tests are the ones that use them. (Imported by
    each test module: a conftest.py here would shadow tests/conftest.py for `from conftest
    import ...` in every module collected after it.)"""
    yield


requires_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason='needs a CUDA GPU: torch sees none here (tools/gpu_check.sh runs these on one)')

# (backbone, decoder stride, image size, mask grid): a Swin with every stage a whole number
# of windows and a ViT, both small enough for a CPU reference in seconds; no drop path, so
# the only randomness is the inputs'.
MODELS_UNDER_TEST = {
    'swin': (dict(
        type='SimMIMSwinTransformer',
        img_size=96,
        drop_path_rate=0.0,
        arch=dict(embed_dims=32, depths=[2, 2, 2, 2], num_heads=[1, 2, 4, 8]),
        stage_cfgs=dict(block_cfgs=dict(window_size=3))), 32, 96, 24),
    'vit': (dict(
        type='SimMIMViT',
        img_size=64,
        drop_path_rate=0.0,
        arch=dict(embed_dims=64, num_layers=2, num_heads=2, feedforward_channels=128)), 16, 64, 4),
}


def build_simmim(name, seed=0):
    backbone, stride, _, _ = MODELS_UNDER_TEST[name]
    torch.manual_seed(seed)
    return MODELS.build(
        dict(
            type='SimMIM',
            backbone=backbone,
            neck=dict(type='SimMIMDecoder', encoder_stride=stride),
            head=dict(type='SimMIMReconstructionHead', criterion='L1')))


def simmim_batch(name, batch=4, seed=0):
    """Normalized images and SimMIM masks (60% masked) for ``name``'s model, on the CPU.
    Smooth images (upsampled noise), so masked pixels can be inferred and a few steps learn."""
    _, _, size, grid = MODELS_UNDER_TEST[name]
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.randn(batch, 3, 6, 6, generator=gen)
    images = F.interpolate(coarse, size=(size, size), mode='bilinear', align_corners=False)
    masks = (torch.rand(batch, grid, grid, generator=gen) < 0.6).long()
    return images, masks


def loss_of(model, images, masks):
    device = next(model.parameters()).device
    samples = [DataSample().set_mask(m.to(device)) for m in masks]
    return model.loss(images.to(device), samples)['loss']
