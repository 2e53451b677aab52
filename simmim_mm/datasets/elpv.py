"""ELPV (Deitsch et al. 2019, solar cells in electroluminescence images) read from the
``elpv-dataset`` package, as samples for ``split.prepare_split``: the published protocol, a
75 / 25 split stratified by defect class and cell type.

The package is optional and never a requirement of simmim_mm: its data is licensed
CC BY-NC-SA 4.0 (non-commercial), so the user installs it.
"""
import importlib.util
import os.path as osp
from typing import List

from .split import Sample, SplitError, checked_image_path

# defect probability k/3 -> class k, named by the probability in percent
CLASSES = ('p0', 'p33', 'p67', 'p100')
CELL_TYPES = ('mono', 'poly')
INSTALL_HINT = ('pip install elpv-dataset (its data is licensed CC BY-NC-SA 4.0: '
                'non-commercial use only)')


def elpv_root() -> str:
    """The installed package's data folder (labels.csv and images/), found through importlib
    without importing the package."""
    spec = importlib.util.find_spec('elpv_dataset')
    if spec is None or not spec.submodule_search_locations:
        raise SplitError(f'the elpv-dataset package is not installed: {INSTALL_HINT}; or '
                         'give --elpv-root, a folder with its labels.csv and images/')
    return osp.join(list(spec.submodule_search_locations)[0], 'data')


def read_elpv_labels(root: str) -> List[Sample]:
    """The samples of ELPV's labels.csv (whitespace-separated ``images/cellNNNN.png
    <probability> <mono|poly>``): label ``p0 / p33 / p67 / p100`` from the probability, group
    the cell type, path relative to ``root/images``."""
    labels = osp.join(root, 'labels.csv')
    if not osp.isfile(labels):
        raise SplitError(f'{labels} does not exist: is {root} the elpv-dataset data folder?')
    samples, seen = [], {}
    with open(labels, encoding='utf-8') as file:
        for number, line in enumerate(file, 1):
            where = f'{labels}:{number}'
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 3:
                raise SplitError(f'{where}: expected "images/<name>.png <probability> '
                                 f'<mono|poly>", got {line.strip()!r}')
            path, probability, cell_type = fields
            if not path.startswith('images/'):
                raise SplitError(f'{where}: the path {path} is not under images/')
            try:
                level = float(probability) * 3
            except ValueError:
                raise SplitError(f'{where}: the probability {probability!r} is no number') from None
            if abs(level - round(level)) > 1e-3 or not 0 <= round(level) <= 3:
                raise SplitError(f'{where}: the probability {probability} is not 0, 1/3, 2/3 '
                                 'or 1')
            if cell_type not in CELL_TYPES:
                raise SplitError(f'{where}: the cell type {cell_type!r} is not mono or poly')
            path = checked_image_path(path[len('images/'):], osp.join(root, 'images'), where)
            if path in seen:
                raise SplitError(f'{where}: duplicate path {path} (first on line {seen[path]})')
            seen[path] = number
            samples.append(Sample(path, CLASSES[round(level)], cell_type))
    if not samples:
        raise SplitError(f'{labels}: no cells listed')
    return samples
