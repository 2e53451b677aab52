"""MIMDistiller: a frozen teacher loaded from any SimMIM checkpoint form, relations and
features that train only the student, and pairings that cannot work refused by name."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.runner.checkpoint import get_state_dict, load_checkpoint, save_checkpoint
from mmpretrain.structures import DataSample

from simmim_mm.checkpoint import model_zoo
from simmim_mm.registry import MODELS

from checkpoint_helpers import to_official  # the independent official writer
from conftest import REPO_ROOT

SWIN_TEACHER = dict(
    type='SimMIMSwinTransformer',
    img_size=64,
    arch=dict(embed_dims=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 4]),
    stage_cfgs=dict(block_cfgs=dict(window_size=2)))
SWIN_STUDENT = dict(
    SWIN_TEACHER, arch=dict(embed_dims=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 4]))
VIT_TEACHER = dict(
    type='SimMIMViT',
    img_size=32,
    patch_size=8,
    arch=dict(embed_dims=32, num_layers=2, num_heads=4, feedforward_channels=64))
VIT_STUDENT = dict(
    VIT_TEACHER,
    layer_cfgs=[dict(), dict(num_heads=4)],
    arch=dict(embed_dims=16, num_layers=2, num_heads=2, feedforward_channels=32))
SCHEDULE = osp.join(REPO_ROOT, 'configs', '_base_', 'schedules',
                    'tinymim-distill_adamw-coslr-300e.py')


def distiller(teacher=SWIN_TEACHER, backbone=SWIN_STUDENT, **kwargs):
    return MODELS.build(dict(type='MIMDistiller', teacher=teacher, backbone=backbone, **kwargs))


def encoder_checkpoint(tmp_path, encoder_cfg, seed=0, name='teacher.pth'):
    """A SimMIM pretraining checkpoint of ours (``state_dict`` with ``backbone.*``)."""
    torch.manual_seed(seed)
    stride = encoder_cfg.get('patch_size', 32)  # ViT: its patch; Swin: 4 x 2^3
    model = MODELS.build(
        dict(
            type='SimMIM',
            backbone=encoder_cfg,
            neck=dict(type='SimMIMDecoder', encoder_stride=stride),
            head=dict(type='SimMIMReconstructionHead')))
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.2)
    path = str(tmp_path / name)
    torch.save({'state_dict': model.state_dict()}, path)
    return path, {
        k[len('backbone.'):]: v
        for k, v in model.state_dict().items()
        if k.startswith('backbone.') and 'relative_position_index' not in k
    }


def images(batch=2, size=64):
    return torch.rand(batch, 3, size, size) * 255


def assert_teacher_is(model, weights):
    state = model.teacher.state_dict()
    for key, value in weights.items():
        assert torch.equal(state[key], value), key


@pytest.mark.parametrize('target', ['relations', 'features'])
def test_teacher_stays_frozen_and_out_of_optimizer_and_checkpoints(tmp_path, target):
    path, weights = encoder_checkpoint(tmp_path, SWIN_TEACHER)
    model = distiller(target=target, teacher_checkpoint=path)
    model.init_weights()
    assert_teacher_is(model, weights)

    cfg = Config.fromfile(SCHEDULE).optim_wrapper
    cfg.optimizer.lr = 1e-2
    cfg.dtype = 'float32'  # conftest.FP32
    wrapper = build_optim_wrapper(model, cfg)
    grouped = {id(p) for group in wrapper.optimizer.param_groups for p in group['params']}
    assert not any(id(p) in grouped for p in model.teacher.parameters())
    assert all(id(p) in grouped for p in model.backbone.parameters())
    assert all(not p.requires_grad for p in model.teacher.parameters())

    student_before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    model.train()
    assert model.backbone.training and not model.teacher.training
    assert not any(m.training for m in model.teacher.modules())
    samples = [DataSample() for _ in range(2)]
    for _ in range(3):
        log = model.train_step(dict(inputs=images(), data_samples=samples), wrapper)
    expected = {'loss_qk', 'loss_vv'} if target == 'relations' else {'loss_fd'}
    assert expected <= set(log) and torch.isfinite(log['loss'])
    assert_teacher_is(model, weights)
    assert not any(p in wrapper.optimizer.state for p in model.teacher.parameters())
    assert any(not torch.equal(model.backbone.state_dict()[k], v)
               for k, v in student_before.items())

    saved = str(tmp_path / 'distilled.pth')
    save_checkpoint({'state_dict': get_state_dict(model)}, saved)
    keys = torch.load(saved, weights_only=True)['state_dict'].keys()
    assert not any(k.startswith('teacher.') for k in keys)
    assert any(k.startswith('backbone.') for k in keys)
    # loading it back, strictly: the teacher keeps what it has
    fresh = distiller(target=target, teacher_checkpoint=path)
    fresh.init_weights()
    load_checkpoint(fresh, saved, strict=True)
    assert_teacher_is(fresh, weights)
    assert torch.equal(fresh.backbone.patch_embed.projection.weight,
                       model.backbone.patch_embed.projection.weight)


def test_vit_relations_stop_at_the_students_last_block(tmp_path):
    model = distiller(VIT_TEACHER, VIT_STUDENT)
    model.train()
    losses = model.loss(images(size=32) / 255, [DataSample(), DataSample()])
    sum(losses.values()).backward()
    layer = model.backbone.layers[-1]
    assert layer.attn.qkv.weight.grad is not None and layer.ln1.weight.grad is not None
    # nothing after the distilled block's q / k / v ran
    assert layer.attn.proj.weight.grad is None and model.backbone.ln1.weight.grad is None


@pytest.mark.parametrize('teacher', [SWIN_TEACHER, VIT_TEACHER], ids=['swin', 'vit'])
def test_a_student_equal_to_its_teacher_has_zero_relation_loss(tmp_path, teacher):
    path, _ = encoder_checkpoint(tmp_path, teacher)
    model = distiller(teacher, teacher, teacher_checkpoint=path)
    model.init_weights()
    model.backbone.load_state_dict(model.teacher.state_dict())
    model.eval()
    size = 64 if teacher is SWIN_TEACHER else 32
    losses = model.loss(images(size=size) / 255, [DataSample(), DataSample()])
    assert losses['loss_qk'].item() == pytest.approx(0, abs=1e-6)
    assert losses['loss_vv'].item() == pytest.approx(0, abs=1e-6)


def test_teacher_from_an_official_file_its_init_cfg_or_a_zoo_name(tmp_path, monkeypatch):
    path, weights = encoder_checkpoint(tmp_path, SWIN_TEACHER)
    state = torch.load(path, weights_only=True)['state_dict']
    official = str(tmp_path / 'official.pth')
    torch.save({'model': to_official(state)}, official)
    model = distiller(teacher_checkpoint=official, teacher_source='official')
    model.init_weights()
    assert_teacher_is(model, weights)

    # or the teacher's own init_cfg (SimMIMPretrainedInit) instead of teacher_checkpoint
    model = distiller(teacher=dict(SWIN_TEACHER, init_cfg=dict(type='Pretrained', checkpoint=path)))
    model.init_weights()
    assert_teacher_is(model, weights)

    asked = []
    monkeypatch.setattr(model_zoo.fetch, 'get_model',
                        lambda name, index: {'Metadata': {
                            'Source Format': 'official'
                        }})
    monkeypatch.setattr(model_zoo.fetch, 'download_model', lambda name, convert, **_: asked.append(
        (name, convert)) or path)
    model = distiller(teacher_checkpoint='simmim_tiny_official')
    model.init_weights()
    assert asked == [('simmim_tiny_official', True)]
    assert_teacher_is(model, weights)


def test_teacher_checkpoint_errors_name_the_field(tmp_path):
    with pytest.raises(ValueError, match='model.teacher_checkpoint is not set'):
        distiller().init_weights()
    with pytest.raises(FileNotFoundError, match="model.teacher_checkpoint='no-such-model'"):
        distiller(teacher_checkpoint='no-such-model').init_weights()
    path, _ = encoder_checkpoint(tmp_path, SWIN_TEACHER)
    with pytest.raises(ValueError, match="model.teacher_source='caffe'"):
        distiller(teacher_checkpoint=path, teacher_source='caffe').init_weights()
    # a checkpoint of another architecture: SimMIMPretrainedInit names the misfits
    other, _ = encoder_checkpoint(tmp_path, SWIN_STUDENT, name='student.pth')
    with pytest.raises(ValueError, match='shape mismatches'):
        distiller(teacher_checkpoint=other).init_weights()


def test_masked_student_adds_the_simmim_pixel_loss():
    model = distiller(
        neck=dict(type='SimMIMDecoder', encoder_stride=32),
        head=dict(type='SimMIMReconstructionHead'))
    assert model.neck.in_channels == 64 and model.neck.out_channels == 3
    model.eval()  # no drop path: the same forward twice
    mask = torch.zeros(2, 16, 16)
    mask[:, 4:12] = 1
    samples = [DataSample().set_mask(m) for m in mask]
    inputs = images() / 255
    losses = model.loss(inputs, samples)
    assert set(losses) == {'loss_qk', 'loss_vv', 'loss_pixel'}
    with torch.no_grad():
        reconstruction = model.neck(model.backbone(inputs, mask)[-1])
    assert losses['loss_pixel'].item() == pytest.approx(
        model.head.loss(reconstruction, inputs, mask).item(), rel=1e-5)
    sum(losses.values()).backward()
    assert model.backbone.mask_token.grad is not None  # the student saw the mask
    with pytest.raises(ValueError, match='SimMIMMaskGenerator'):
        model.loss(inputs, [DataSample(), DataSample()])


SWIN_V2 = dict(
    type='SimMIMSwinTransformerV2',
    img_size=64,
    window_size=[2, 2, 2, 2],
    arch=dict(
        embed_dims=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 4], extra_norm_every_n_blocks=0))


@pytest.mark.parametrize(
    'kwargs, match', [
        (dict(
            backbone=dict(
                SWIN_STUDENT, arch=dict(embed_dims=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2]))
        ), r'model\.backbone\.stage_cfgs\[-1\]\.block_cfgs\[-1\]\.num_heads=2: the teacher block '
         r'-1 has 4 heads'),
        (dict(teacher=VIT_TEACHER, backbone=dict(VIT_STUDENT, layer_cfgs=[dict(), dict()])),
         r'model\.backbone\.layer_cfgs\[-1\]\.num_heads=2'),
        (dict(
            teacher_block=2,
            backbone=dict(
                SWIN_STUDENT, arch=dict(embed_dims=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2
                                                                                      ]))),
         r'model\.backbone\.stage_cfgs\[-1\]\.block_cfgs\[-1\]\.window_size=2 on a \(2, 2\) map, '
         r'the teacher block 2: window 2 on \(4, 4\)'),
        (dict(teacher=dict(SWIN_TEACHER, img_size=128)), r'model\.teacher\.img_size \(128, 128\)'),
        (dict(teacher=dict(VIT_TEACHER, img_size=64, patch_size=32)),
         r'model\.teacher\.type=SimMIMViT and model\.backbone\.type=SimMIMSwinTransformer'),
        (dict(teacher=SWIN_V2), r'model\.teacher\.type=SimMIMSwinTransformerV2'),
        (dict(teacher_block=4), r'model\.teacher_block=4: the teacher has 4 blocks'),
        (dict(target='logits'), r"model\.target='logits'"),
        (dict(neck=dict(type='SimMIMDecoder', encoder_stride=32)), r'model\.neck and model\.head'),
        (dict(target='features', teacher=dict(VIT_TEACHER, img_size=64)),
         r'model\.teacher \(SimMIMViT\) ends in a \(8, 8\) feature map, model\.backbone '
         r'\(SimMIMSwinTransformer\) in \(2, 2\)'),
        (dict(target='features', teacher=VIT_TEACHER, backbone=VIT_STUDENT),
         r'model\.backbone\.layer_cfgs\[-1\]\.num_heads=4 differs from the 2 heads'),
    ],
    ids=[
        'swin-heads', 'vit-heads', 'swin-windows', 'img-size', 'vit-and-swin', 'swinv2',
        'teacher-block', 'target', 'neck-without-head', 'feature-size', 'vit-full-forward'
    ])
def test_pairings_that_cannot_work_are_refused_naming_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        distiller(**kwargs)


def test_feature_distillation_pairs_any_encoders_with_the_same_map():
    model = distiller(SWIN_V2, SWIN_STUDENT, target='features')
    assert model.projector.in_channels == 64 and model.projector.out_channels == 128
    losses = model.loss(images() / 255, [DataSample(), DataSample()])
    assert torch.isfinite(losses['loss_fd'])
