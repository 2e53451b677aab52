"""KNNMonitorHook in a short training run on a separable labeled set."""
import glob
import json
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.runner import Runner
from PIL import Image

from conftest import demo_config, make_images

COLOURS = [(200, 60, 40), (40, 80, 210)]  # two classes told apart by colour


def make_labeled(folder, per_class, seed):
    rng = np.random.default_rng(seed)
    for label, colour in enumerate(COLOURS):
        sub = osp.join(folder, f'class{label}')
        os.makedirs(sub, exist_ok=True)
        for i in range(per_class):
            img = np.asarray(colour, np.float32) + rng.normal(0, 25, (80, 80, 3))
            Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(osp.join(sub, f'{i}.png'))
    return str(folder)


def write_config(tmp_path, train_folder, bank, queries, by_epoch):
    loop = ("dict(_delete_=True, type='EpochBasedTrainLoop', max_epochs=2)"
            if by_epoch else "dict(max_iters=4)")
    sampler = "dict(type='DefaultSampler', shuffle=True)" if by_epoch else 'None'
    path = tmp_path / 'knn_tiny.py'
    path.write_text(
        demo_config(
            train_folder,
            train_cfg=loop,
            before="""\
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=64, crop_ratio_range=(0.67, 1.0)),
    dict(type='SimMIMMaskGenerator', input_size=64, mask_patch_size=16, model_patch_size=4),
    dict(type='PackInputs'),
]
knn_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=64, edge='short'),
    dict(type='CenterCrop', crop_size=64),
    dict(type='PackInputs'),
]""",
            pipeline='train_pipeline',
            custom_hooks=f"""[
    dict(type='KNNMonitorHook', by_epoch={by_epoch}, interval={1 if by_epoch else 2},
         k=5, batch_size=4,
         train_dataset=dict(type='CustomDataset', data_root={bank!r},
                            pipeline=knn_pipeline),
         val_dataset=dict(type='CustomDataset', data_root={queries!r},
                          pipeline=knn_pipeline))]""",
            after=f"""\
if {by_epoch}:
    train_dataloader['sampler'] = {sampler}"""))
    return str(path)


@pytest.mark.parametrize('by_epoch', [False, True], ids=['iters', 'epochs'])
def test_knn_top1_is_logged_and_high_on_a_separable_set(tmp_path, by_epoch):
    train_folder = tmp_path / 'unlabeled'
    make_images(train_folder, count=4)
    bank = make_labeled(tmp_path / 'bank', per_class=6, seed=0)
    queries = make_labeled(tmp_path / 'queries', per_class=4, seed=1)
    cfg = Config.fromfile(write_config(tmp_path, str(train_folder), bank, queries, by_epoch))
    cfg.work_dir = str(tmp_path / 'work')
    cfg.experiment_name = f'knn_{by_epoch}'
    runner = Runner.from_cfg(cfg)
    runner.train()

    records = [
        json.loads(line)
        for path in glob.glob(osp.join(cfg.work_dir, '*', 'vis_data', 'scalars.json'))
        for line in open(path)
    ]
    top1 = {r['step']: r['knn/top1'] for r in records if 'knn/top1' in r}
    assert sorted(top1) == [2, 4]  # every 2 iterations / each epoch of 2, once at 4
    assert all(value >= 90.0 for value in top1.values()), top1
    hook = next(h for h in runner.hooks if type(h).__name__ == 'KNNMonitorHook')
    assert hook.last_top1 == top1[4]


def test_unlabeled_sets_and_bad_intervals_are_refused(tmp_path):
    from simmim_mm.engine import KNNMonitorHook
    with pytest.raises(ValueError, match='interval must be >= 1'):
        KNNMonitorHook(train_dataset={}, val_dataset={}, interval=0)
    folder = make_labeled(tmp_path / 'set', per_class=1, seed=0)
    unlabeled = dict(
        type='CustomDataset',
        data_root=folder,
        with_label=False,
        pipeline=[dict(type='LoadImageFromFile'),
                  dict(type='PackInputs')])
    hook = KNNMonitorHook(train_dataset=unlabeled, val_dataset=unlabeled)
    with pytest.raises(ValueError, match='train_dataset has no labels'):
        hook._loader('train_dataset', unlabeled)


def test_per_class_draws_a_seeded_subset_balanced_over_classes(tmp_path):
    """Class folders of 2, 5 and 9 images: per_class=3 keeps 2, 3 and 3, not the first 8."""
    from simmim_mm.engine.hooks.knn_monitor_hook import balanced_subset
    from simmim_mm.registry import DATASETS
    for label, count in enumerate((2, 5, 9)):
        sub = tmp_path / f'c{label}'
        sub.mkdir()
        for i in range(count):
            Image.new('RGB', (8, 8)).save(sub / f'{i}.png')
    dataset = DATASETS.build(dict(type='CustomDataset', data_root=str(tmp_path), pipeline=[]))
    labels = [int(dataset.get_data_info(i)['gt_label']) for i in range(len(dataset))]
    subset = balanced_subset(dataset, per_class=3, seed=0)
    chosen = [labels[i] for i in subset.indices]
    assert sorted(chosen) == [0, 0, 1, 1, 1, 2, 2, 2]
    assert list(subset.indices) == sorted(subset.indices)
    assert balanced_subset(dataset, 3, seed=0).indices == subset.indices
    draws = {tuple(balanced_subset(dataset, 3, seed=s).indices) for s in range(5)}
    assert len(draws) > 1  # the seed picks which images
