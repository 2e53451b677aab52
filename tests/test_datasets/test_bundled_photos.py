import os.path as osp

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
