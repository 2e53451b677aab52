"""Compression end to end through tools/train.py: a tiny SimMIM pretraining, TinyMIM
distillation of its checkpoint into a smaller Swin (configs/distill's demo config), then
ImageNet-style fine-tuning of the student from the distilled checkpoint (configs/distill's
Swin-T fine-tuning config), each a few iterations on generated images, in fp32."""
import os.path as osp
import re
import subprocess
import sys

import torch

from conftest import FP32, REPO_ROOT, demo_config, make_images

TEACHER = "dict(_delete_=True, embed_dims=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2])"
STUDENT = "dict(_delete_=True, embed_dims=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2])"
PIPELINE = """[dict(type='LoadImageFromFileOrSkip'),
                           dict(type='Resize', scale=(64, 64)),{mask}
                           dict(type='PackInputs')]"""
LOADER = """dict(batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(_delete_=True, type='CustomDataset', data_root={root!r}, with_label=False,
                 pipeline=""" + PIPELINE + '))'
MASK = """
                           dict(type='SimMIMMaskGenerator', input_size=64, mask_patch_size=16,
                                model_patch_size=4, mask_ratio=0.6),"""


def config_path(*parts):
    return osp.join(REPO_ROOT, 'configs', *parts)


def train(config_file, text, work_dir):
    with open(config_file, 'w') as f:
        f.write(text)
    result = subprocess.run([
        sys.executable,
        osp.join(REPO_ROOT, 'tools', 'train.py'),
        str(config_file), '--work-dir',
        str(work_dir)
    ],
                            capture_output=True,
                            text=True,
                            cwd=REPO_ROOT,
                            timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


def test_pretrain_distill_finetune(tmp_path):
    images = tmp_path / 'images'
    make_images(images, count=4)

    pretrain = tmp_path / 'pretrain'
    train(
        tmp_path / 'pretrain.py',
        demo_config(
            str(images),
            2,
            tiny_model=False,
            param_scheduler=None,
            checkpoint_interval=2,
            log_interval=None,
            pipeline=PIPELINE.format(mask=MASK),
            before=f"""\
model = dict(backbone=dict(img_size=64, arch={TEACHER},
                           stage_cfgs=dict(_delete_=True, block_cfgs=dict(window_size=2))))""",
            after=FP32), pretrain)
    teacher_checkpoint = str(pretrain / 'iter_2.pth')

    distill = tmp_path / 'distill'
    output = train(
        tmp_path / 'distill.py', f"""
_base_ = {config_path('distill',
                      'tinymim_swin-demo-to-swin-demo-small_1xb8-200iter_photos-96px.py')!r}
model = dict(
    teacher_checkpoint={teacher_checkpoint!r},
    teacher=dict(img_size=64, arch={TEACHER},
                 stage_cfgs=dict(_delete_=True, block_cfgs=dict(window_size=2))),
    backbone=dict(img_size=64, arch={STUDENT},
                  stage_cfgs=dict(_delete_=True, block_cfgs=dict(window_size=2))))
train_dataloader = {LOADER.format(root=str(images), mask='')}
{FP32}
train_cfg = dict(max_iters=2)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
""", distill)
    assert f'SimMIM encoder tensors from {teacher_checkpoint}' in output  # the teacher
    losses = re.findall(r'loss_qk: ([0-9.]+)\s+loss_vv: ([0-9.]+)', output)
    assert len(losses) == 2 and all(float(v) > 0 for pair in losses for v in pair), output[-2000:]
    student_checkpoint = str(distill / 'iter_2.pth')
    state = torch.load(student_checkpoint, weights_only=True)['state_dict']
    assert not any(k.startswith('teacher.') for k in state)
    assert state['backbone.norm3.weight'].shape == (64, )  # the student's last stage width

    labelled = tmp_path / 'imagenet'
    for split, count in (('train', 4), ('val', 2)):
        paths = make_images(labelled / split, count=count, seed=count)
        (labelled / 'meta').mkdir(exist_ok=True)
        (labelled / 'meta' / f'{split}.txt').write_text(''.join(
            f'{osp.relpath(p, labelled / split)} {i % 2}\n' for i, p in enumerate(paths)))
    loader = (f"dict(batch_size=2, num_workers=0, persistent_workers=False, "
              f"dataset=dict(data_root={str(labelled)!r}, split='{{}}'))")
    finetune = tmp_path / 'finetune'
    output = train(
        tmp_path / 'finetune.py', f"""
_base_ = {config_path('finetune', 'swin-tiny-w7_fd-300e-pre_16xb128-coslr-100e_in1k-224px.py')!r}
model = dict(backbone=dict(arch={STUDENT}, init_cfg=dict(checkpoint={student_checkpoint!r})),
             head=dict(num_classes=2, in_channels=64))
data_preprocessor = dict(num_classes=2)
train_dataloader = {loader.format('train')}
val_dataloader = {loader.format('val')}
val_evaluator = dict(type='Accuracy', topk=(1, ))
{FP32}
train_cfg = dict(max_epochs=1)
auto_scale_lr = dict(enable=False)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
default_hooks = dict(logger=dict(interval=1))
""", finetune)
    # every student tensor loaded (window 2 -> 7 tables resized), then trained and evaluated
    assert f'SimMIM encoder tensors from {student_checkpoint}' in output
    assert 'accuracy/top1' in output
    assert osp.isfile(finetune / 'epoch_1.pth')
