"""A config inherited as `simmim_mm::...` tags its collate_fn with `_scope_`; MMEngine's Runner
passes that on to the function (tests/test_compat/test_mmengine_engine.py), AtomicCheckpointRunner
does not."""
import torch

from simmim_mm.engine import AtomicCheckpointRunner


def dataloader_cfg(image_folder):
    # what Config.fromfile makes of a base config's dataloader loaded through `simmim_mm::`
    return dict(
        batch_size=2,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False, _scope_='simmim_mm'),
        collate_fn=dict(type='default_collate', _scope_='simmim_mm'),
        dataset=dict(
            type='CustomDataset',
            data_root=image_folder,
            with_label=False,
            _scope_='simmim_mm',
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='Resize', scale=(32, 32)),
                dict(type='PackInputs')
            ]))


def test_atomic_checkpoint_runner_collates_the_batch(image_folder):
    cfg = dataloader_cfg(image_folder)
    batch = next(iter(AtomicCheckpointRunner.build_dataloader(cfg, seed=0)))
    assert isinstance(batch['inputs'], torch.Tensor)
    assert batch['inputs'].shape == (2, 3, 32, 32)
    assert cfg['collate_fn']['_scope_'] == 'simmim_mm'  # the config itself is left as it was
