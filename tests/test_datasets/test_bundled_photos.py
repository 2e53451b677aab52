import os.path as osp

import pytest

from simmim_mm.registry import DATASETS


def test_bundled_photos_are_real_files_that_load():
    dataset = DATASETS.build(
        dict(
            type='BundledPhotos',
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='RandomResizedCrop', scale=64),
                dict(type='SimMIMMaskGenerator', input_size=64, model_patch_size=4),
                dict(type='PackInputs')
            ]))
    assert len(dataset) == 15
    for info in dataset.data_list:
        assert osp.getsize(info['img_path']) > 10_000
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (3, 64, 64)
    assert tuple(sample['data_samples'].mask.shape) == (16, 16)


def test_a_folder_given_to_the_bundled_photos_names_the_dataset_to_use():
    """The demo's dataset reads no folder: a data_root or data_prefix (as a user points the
    demo config at their images) is refused, not looked up as the 15 photo names."""
    for folder in (dict(data_root='/data/xray'), dict(data_prefix='')):
        with pytest.raises(ValueError, match=r"not a folder .*type='CustomDataset'"):
            DATASETS.build(dict(type='BundledPhotos', **folder))
