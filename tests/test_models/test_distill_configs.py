"""configs/distill: the papers' recipes, one loss at real size per distillation config, and
each student's checkpoint loading into its fine-tuning config (configs/finetune)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS as ROOT_MODELS
from mmpretrain.structures import DataSample

from simmim_mm.models.utils.attention_blocks import attention_blocks, block_num_heads, qkv_at_block

from conftest import REPO_ROOT

VIT_S = 'tinymim_vit-base-p16-to-vit-small-p16_32xb128-amp-300e_in1k-224px.py'
VIT_T = 'tinymim_vit-base-p16-to-vit-tiny-p16_32xb128-amp-300e_in1k-224px.py'
SWIN_FD = 'fd_swin-base-w6-to-swin-tiny-w6_16xb128-amp-300e_in1k-192px.py'
SWIN_REL = 'tinymim_swin-base-w6-to-swin-tiny-w6_32xb128-amp-300e_in1k-192px.py'
DEMO = 'tinymim_swin-demo-to-swin-demo-small_1xb8-200iter_photos-96px.py'
FINETUNE = {
    VIT_S: 'vit-small-p16_tinymim-300e-pre_16xb128-coslr-100e_in1k-224px.py',
    VIT_T: 'vit-tiny-p16_tinymim-300e-pre_16xb128-coslr-100e_in1k-224px.py',
    SWIN_FD: 'swin-tiny-w7_fd-300e-pre_16xb128-coslr-100e_in1k-224px.py',
    SWIN_REL: 'swin-tiny-w7_tinymim-300e-pre_16xb128-coslr-100e_in1k-224px.py',
}


def load(name, folder='distill'):
    return Config.fromfile(osp.join(REPO_ROOT, 'configs', folder, name))


@pytest.mark.parametrize('name', [VIT_S, VIT_T, SWIN_REL])
def test_tinymim_recipe(name):
    cfg = load(name)
    optim = cfg.optim_wrapper
    assert optim.optimizer.type == 'AdamW' and optim.optimizer.betas == (0.9, 0.95)
    assert optim.optimizer.lr == pytest.approx(1.5e-4 * 4096 / 256)
    assert optim.optimizer.weight_decay == 0.05 and optim.paramwise_cfg.flat_decay_mult == 0
    assert optim.constructor == 'DistillerOptimWrapperConstructor'
    assert 'clip_grad' not in optim
    assert cfg.train_dataloader.batch_size * 32 == cfg.auto_scale_lr.base_batch_size == 4096
    warmup, cosine = cfg.param_scheduler
    assert (warmup.type, warmup.end, cosine.begin, cosine.end) == ('LinearLR', 15, 15, 300)
    assert cosine.eta_min == 0 and cfg.train_cfg.max_epochs == 300
    assert cfg.model.backbone.drop_path_rate == 0.1 and cfg.model.target == 'relations'
    crop = cfg.train_dataloader.dataset.pipeline[1]
    assert crop.crop_ratio_range == (0.2, 1.0)
    assert not any('Mask' in t.type for t in cfg.train_dataloader.dataset.pipeline)
    assert cfg.model_wrapper_cfg.find_unused_parameters


def test_fd_recipe():
    cfg = load(SWIN_FD)
    assert cfg.model.target == 'features' and cfg.model.distill_loss.beta == 2.0
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(2e-4 * 2048 / 512)
    assert cfg.optim_wrapper.clip_grad.max_norm == 3.0
    warmup, cosine = cfg.param_scheduler
    assert warmup.start_factor * 2e-4 == pytest.approx(1e-6) and warmup.end == 10
    assert cosine.eta_min_ratio * 2e-4 == pytest.approx(1e-5) and cosine.T_max == 290
    assert cfg.train_cfg.max_epochs == 300


@pytest.mark.parametrize('name', [VIT_S, VIT_T])
def test_vit_finetuning_uses_tinymim_layer_decay(name):
    assert load(FINETUNE[name], 'finetune').optim_wrapper.paramwise_cfg.layer_decay_rate == 0.6


@pytest.mark.parametrize('name, heads, tokens', [(VIT_S, 12, 197), (VIT_T, 12, 197),
                                                 (SWIN_REL, 32, 36), (SWIN_FD, None, None)])
def test_real_size_distillation_then_finetuning_loads_the_student(name, heads, tokens, tmp_path):
    cfg = load(name)
    torch.manual_seed(0)
    model = ROOT_MODELS.build(dict(cfg.model, data_preprocessor=cfg.data_preprocessor))
    if heads is not None:
        assert block_num_heads(attention_blocks(model.backbone)[-1]) == heads
        assert block_num_heads(attention_blocks(model.teacher)[-1]) == heads
    size = cfg.model.backbone.img_size
    inputs = torch.randn(1, 3, size, size)
    model.eval()
    with torch.no_grad():
        losses = model.loss(inputs, [DataSample()])
        if tokens is not None:  # ViT: 196 patches + cls; Swin: one 6 x 6 window
            block = attention_blocks(model.backbone)[-1]
            (q, _, _), _ = qkv_at_block(model.backbone, block, inputs)
            assert q.shape[1:3] == (heads, tokens)
    assert all(torch.isfinite(v) for v in losses.values()) and losses

    path = str(tmp_path / 'student.pth')
    state = model.state_dict()
    assert not any(k.startswith('teacher.') for k in state)
    torch.save({'state_dict': state}, path)
    finetune = load(FINETUNE[name], 'finetune')
    finetune.model.backbone.init_cfg.checkpoint = path
    classifier = ROOT_MODELS.build(finetune.model)
    classifier.init_weights()  # SimMIMPretrainedInit: every student weight fits, or raises
    loaded = classifier.backbone.state_dict()
    key = 'patch_embed.projection.weight'
    assert torch.equal(loaded[key], state['backbone.' + key])


def test_demo_pretraining_checkpoint_is_the_demo_teacher(tmp_path):
    """`make demo`'s checkpoint loads into the demo distillation's teacher."""
    demo = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'demo', 'simmim_swin-demo_1xb8-800iter_photos-96px.py'))
    pretrained = ROOT_MODELS.build(demo.model)
    path = str(tmp_path / 'iter_800.pth')
    torch.save({'state_dict': pretrained.state_dict()}, path)
    cfg = load(DEMO)
    assert cfg.model.teacher_checkpoint.endswith(
        'simmim_swin-demo_1xb8-800iter_photos-96px/iter_800.pth')
    cfg.model.teacher_checkpoint = path
    model = ROOT_MODELS.build(cfg.model)
    model.init_weights()
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, pretrained.backbone.state_dict()[key]), key
