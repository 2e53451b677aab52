import os.path as osp

from mmengine.dataset import BaseDataset

from simmim_mm.registry import DATASETS

# The real photographs in scikit-image's package data (colour and grayscale), not its
# synthetic test patterns.
SKIMAGE_PHOTOS = ('astronaut.png', 'brick.png', 'camera.png', 'chelsea.png', 'coffee.png',
                  'coins.png', 'grass.png', 'gravel.png', 'hubble_deep_field.jpg', 'ihc.png',
                  'moon.png', 'motorcycle_left.png', 'motorcycle_right.png', 'retina.jpg',
                  'rocket.jpg')


@DATASETS.register_module()
class BundledPhotos(BaseDataset):
    """The photos that ship inside the scikit-image package: the demo's data, with no download
    and no data folder to set up. Labels: none. It reads no folder: a ``data_root`` or
    ``data_prefix`` given to it is refused, naming the dataset to use instead."""

    def __init__(self, **kwargs):
        from skimage.data import data_dir
        folder = {k: kwargs[k] for k in ('data_root', 'data_prefix') if k in kwargs}
        if folder and folder != dict(data_root=data_dir):
            raise ValueError(
                f'BundledPhotos reads the photos inside scikit-image, not a folder ({folder}); '
                "replace the dataset: train_dataloader = dict(dataset=dict(_delete_=True, "
                "type='CustomDataset', data_root=..., with_label=False, pipeline=...)) "
                '(docs/en/user_guides/data_preparation.md)')
        kwargs.setdefault('data_root', data_dir)
        super().__init__(**kwargs)

    def load_data_list(self):
        return [dict(img_path=osp.join(self.data_root, name)) for name in SKIMAGE_PHOTOS]
