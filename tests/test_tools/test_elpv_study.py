"""The ELPV worked example: the fine-tuning config loads the ELPV SimMIM checkpoint strictly,
the study's schedule scaling, and the whole study at toy size (16 generated grayscale cells,
one epoch per stage, one seed) through tools/train.py, tools/test.py and
tools/analysis/knn_probe.py."""
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from simmim_mm.benchmark.pretraining_study import schedule_options
from simmim_mm.registry import MODELS

from conftest import REPO_ROOT
from dataset_layouts import ELPV_CLASSES, elpv_folder

ELPV = osp.join(REPO_ROOT, 'configs', 'elpv')
PRETRAIN = osp.join(ELPV, 'simmim_swin-demo_1xb8-coslr-40e_elpv-96px.py')
FINETUNE = osp.join(ELPV, 'swin-demo_simmim-40e-pre_1xb32-coslr-30e_elpv-96px.py')
SCRATCH = osp.join(ELPV, 'swin-demo_1xb32-coslr-30e_elpv-96px.py')
STUDY = osp.join(REPO_ROOT, 'tools', 'analysis', 'elpv_study.py')
# a CPU test: no worker processes, batch 1
SMALL_LOADERS = [
    'train_dataloader.batch_size=1', 'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False'
]
SMALL_TEST_LOADER = ['test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False']


def run_tool(*args, cwd=REPO_ROOT):
    result = subprocess.run([sys.executable, *args],
                            capture_output=True,
                            text=True,
                            cwd=cwd,
                            timeout=1200)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return output


def test_scratch_differs_from_the_simmim_fine_tuning_only_in_init():
    simmim, scratch = Config.fromfile(FINETUNE), Config.fromfile(SCRATCH)
    assert simmim.model.backbone.init_cfg.type == 'Pretrained'
    assert scratch.model.backbone.init_cfg is None
    scratch.model.backbone.init_cfg = simmim.model.backbone.init_cfg
    assert scratch.to_dict() == simmim.to_dict()


def test_schedule_options_stretch_warmup_and_cosine_with_the_epochs():
    # the pretraining: 4 warmup epochs of 40, then cosine to 40 (T_max 40); 20 epochs keep
    # warmup at 10% of the run: 2 epochs
    assert schedule_options(PRETRAIN, 20) == {
        'train_cfg.max_epochs': 20,
        'param_scheduler.0.begin': 0,
        'param_scheduler.0.end': 2,
        'param_scheduler.1.begin': 2,
        'param_scheduler.1.end': 20,
        'param_scheduler.1.T_max': 20,
    }
    # fine-tuning: 3 of 30 -> 0.1 of 1 (fractional epochs become iterations)
    options = schedule_options(FINETUNE, 1)
    assert options['param_scheduler.0.end'] == pytest.approx(0.1)
    assert options['param_scheduler.1.T_max'] == 1
    assert schedule_options(FINETUNE, None) == {}


def test_fine_tuning_loads_the_elpv_simmim_checkpoint_strictly(tmp_path):
    data = elpv_folder(str(tmp_path / 'data'))  # 8 training cells: one iteration at batch 8
    work = tmp_path / 'pretrain'
    run_tool(
        osp.join(REPO_ROOT, 'tools', 'train.py'), PRETRAIN, '--work-dir', str(work),
        '--cfg-options', 'train_cfg.max_epochs=1', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', f'train_dataloader.dataset.data_root={data}',
        'custom_hooks=[]')
    checkpoint = str(work / 'epoch_1.pth')
    saved = torch.load(checkpoint, map_location='cpu', weights_only=True)['state_dict']
    encoder = {k[len('backbone.'):]: v for k, v in saved.items() if k.startswith('backbone.')}
    assert encoder['patch_embed.projection.weight'].shape[1] == 1  # one input channel

    cfg = Config.fromfile(FINETUNE)
    cfg.model.backbone.init_cfg.checkpoint = checkpoint
    model = MODELS.build(cfg.model)
    model.init_weights()
    backbone = model.backbone.state_dict()
    # every parameter of the classifier's backbone comes from the checkpoint, unchanged
    # (windows and arch are the pretraining's: no table is resized)
    for name, _ in model.backbone.named_parameters():
        assert name in encoder, name
        torch.testing.assert_close(backbone[name], encoder[name], rtol=0, atol=0, msg=name)
    # only SimMIM's mask token is left behind
    assert {k for k in encoder if k not in backbone} <= {'mask_token'}

    scratch = MODELS.build(Config.fromfile(SCRATCH).model)
    scratch.init_weights()
    assert not torch.equal(scratch.backbone.state_dict()['patch_embed.projection.weight'],
                           encoder['patch_embed.projection.weight'])


def test_study_at_toy_size_writes_every_column(tmp_path):
    # 16 grayscale cells: 12 to train (3 per class: 12 iterations per epoch at batch 1, so
    # the scaled warmup lasts an iteration), 4 to test (one per class). Run from tmp_path
    # with relative paths: they mean the caller's folder, not the tool's.
    elpv_folder(str(tmp_path / 'data'), train_per_class=3, test_per_class=1)
    work = tmp_path / 'study'
    command = [
        STUDY, '--work-dir', 'study', '--data-root', 'data', '--seeds', '3', '--pretrain-epochs',
        '1', '--finetune-epochs', '1', '--pretrain-options', *SMALL_LOADERS, '--finetune-options',
        *SMALL_LOADERS, *SMALL_TEST_LOADER
    ]
    run_tool(*command, cwd=tmp_path)

    with open(work / 'study.json') as f:
        report = json.load(f)
    metrics = ['accuracy/top1', 'accuracy/functional-vs-defective'] + \
        [f'recall/{name}' for name in ELPV_CLASSES] + ['knn10/top1', 'knn20/top1']
    runs = {run['init']: run for run in report['runs']}
    assert sorted(runs) == ['scratch', 'simmim']
    for init, run in runs.items():
        assert run['seed'] == 3
        assert list(run['metrics']) == metrics
        # 4 test cells, one per class: accuracies in quarters, recalls 0 or 100
        assert all(run['metrics'][k] in (0, 25, 50, 75, 100) for k in metrics[:2])
        assert all(run['metrics'][k] in (0, 100) for k in metrics[2:6])
        assert all(run['metrics'][k] in (0, 25, 50, 75, 100) for k in metrics[6:])
        # the probe's JSON, with the checkpoint of the pretraining for SimMIM only
        with open(work / 'seed3' / f'probe_{init}' / 'knn.json') as f:
            probe = json.load(f)
        assert (probe['train_images'], probe['test_images'], probe['seed']) == (12, 4, 3)
        assert probe['metrics']['knn20/top1'] == run['metrics']['knn20/top1']
        if init == 'simmim':
            assert probe['checkpoint'].startswith(str(work / 'seed3' / 'pretrain'))
        else:
            assert probe['checkpoint'] is None and probe['init'] == 'random'
        # every training run in float32 (the study's default), whatever the CPU's bf16
        with open(work / 'seed3' / f'finetune_{init}' / 'stage.json') as f:
            assert 'optim_wrapper.dtype=float32' in json.load(f)['command']
        stages = {'probe', 'finetune', 'test'} | ({'pretrain'} if init == 'simmim' else set())
        assert set(run['seconds']) == stages and all(s > 0 for s in run['seconds'].values())
    difference = report['summary']['simmim - scratch']['metrics']['accuracy/top1']['mean']
    assert difference == runs['simmim']['metrics']['accuracy/top1'] - \
        runs['scratch']['metrics']['accuracy/top1']
    assert {'cpu', 'device', 'versions', 'command'} <= set(report['machine'])
    # each run's seed reached its config
    dumped = Config.fromfile(str(work / 'seed3' / 'finetune_scratch' / osp.basename(SCRATCH)))
    assert dumped.randomness.seed == 3

    with open(work / 'study.md') as f:
        table = f.read()
    header = next(line for line in table.splitlines() if line.startswith('| seed'))
    times = ['pretrain (s)', 'probe (s)', 'finetune (s)', 'test (s) |']
    assert header.split(' | ')[2:] == metrics + times
    assert '| 3 | simmim |' in table and '| 3 | scratch |' in table
    assert 'mean (1 seed) | simmim - scratch' in table

    # run again: every stage finished, none reruns
    output = run_tool(*command, cwd=tmp_path)
    assert output.count('done before') == 7 and 'running' not in output
    # scratch alone (as for a study of another pretraining length): no pretraining stage
    output = run_tool(*command, '--inits', 'scratch', cwd=tmp_path)
    assert output.count('done before') == 3 and 'seed 3 pretrain' not in output
    with open(work / 'study.json') as f:
        report = json.load(f)
    assert [run['init'] for run in report['runs']] == ['scratch']
    assert 'simmim - scratch' not in report['summary']
