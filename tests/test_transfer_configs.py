"""Every fine-tuning / detection / segmentation config builds its full model in its own scope
and starts from the SimMIM encoder: backbone tensors equal the checkpoint's after init."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import DefaultScope, init_default_scope

from simmim_mm.registry import MODELS

from conftest import REPO_ROOT, pretraining_config_of

TRANSFER = sorted(
    glob.glob(osp.join(REPO_ROOT, 'configs', 'finetune', '*.py')) +
    glob.glob(osp.join(REPO_ROOT, 'configs', 'downstream', '*', '*.py')))


def pretraining_checkpoint(tmp_path, transfer_config):
    cfg = Config.fromfile(osp.join(REPO_ROOT, 'configs', pretraining_config_of(transfer_config)))
    model = MODELS.build(cfg.model)
    path = str(tmp_path / 'simmim.pth')
    torch.save({'state_dict': model.state_dict()}, path)
    return path, {
        k[len('backbone.'):]: v
        for k, v in model.state_dict().items() if k.startswith('backbone.')
    }


@pytest.mark.parametrize('path', TRANSFER, ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_config_builds_and_starts_from_the_simmim_encoder(path, tmp_path):
    cfg = Config.fromfile(path)
    ckpt, encoder = pretraining_checkpoint(tmp_path, path)
    cfg.model.backbone.init_cfg.checkpoint = ckpt
    scope = cfg.get('default_scope', 'simmim_mm')
    DefaultScope._instance_dict.pop('transfer-test', None)
    with DefaultScope.overwrite_default_scope(scope):
        init_default_scope(scope)
        model = ROOT_MODELS.build(cfg.model)
        model.init_weights()
        loaded = model.backbone.state_dict()
        skipped = ('mask_token', 'relative_position_index', 'relative_position_bias_table',
                   'attn_mask', 'ln1.weight', 'ln1.bias')  # resized or not transferred
        weights = {k: v for k, v in encoder.items() if not k.endswith(skipped)}
        for key, value in weights.items():
            assert torch.equal(loaded[key], value), key
        assert len(weights) > 100
        # layer-wise lr decay reaches the backbone's first layer, 12 or more blocks down
        wrapper = build_optim_wrapper(model, dict(cfg.optim_wrapper, type='OptimWrapper'))
        scales = [g.get('lr_scale', 1.0) for g in wrapper.optimizer.param_groups]
        rate = cfg.optim_wrapper.paramwise_cfg.layer_decay_rate
        assert min(scales) <= rate**12 and max(scales) == 1.0
