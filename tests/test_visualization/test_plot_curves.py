"""tools/analysis/plot_curves.py on the JSON logs MMEngine writes."""
import importlib.util
import json
import os
import os.path as osp

import pytest
from PIL import Image

from conftest import REPO_ROOT

spec = importlib.util.spec_from_file_location(
    'plot_curves', osp.join(REPO_ROOT, 'tools', 'analysis', 'plot_curves.py'))
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)


def write_run(work_dir, timestamp, records):
    folder = osp.join(work_dir, timestamp, 'vis_data')
    os.makedirs(folder)
    with open(osp.join(folder, 'scalars.json'), 'w') as f:
        for record in records:
            f.write(json.dumps(record) + '\n')


def train_record(step, loss):
    return dict(lr=1e-3, data_time=0.1, loss=loss, time=0.5, iter=step, memory=0, step=step)


def test_curves_of_a_resumed_run_with_knn_and_validation(tmp_path):
    work_dir = str(tmp_path / 'run')
    write_run(work_dir, '20260101_000000', [
        train_record(1, 1.0),
        train_record(2, 0.9), {
            'knn/top1': 50.0,
            'step': 2
        },
        train_record(3, 0.8)
    ])
    # resumed from iteration 2: its iteration 3 replaces the first run's
    write_run(work_dir, '20260101_010000', [
        train_record(3, 0.7),
        train_record(4, 0.6), {
            'reconstruction/error': 0.5,
            'step': 4
        }, {
            'knn/top1': 75.0,
            'step': 4
        }
    ])
    curves = tool.load_curves(work_dir)
    assert curves['loss'] == {1: 1.0, 2: 0.9, 3: 0.7, 4: 0.6}
    assert curves['knn/top1'] == {2: 50.0, 4: 75.0}
    assert tool.pick_keys([('run', curves)]) == ['loss', 'lr', 'knn/top1', 'reconstruction/error']

    out = tool.main([work_dir, '--out', str(tmp_path / 'curves.png')])
    width, height = Image.open(out).size
    assert width == 700 and height == 4 * 260  # a panel per key


def test_one_json_file_and_chosen_keys(tmp_path):
    write_run(str(tmp_path), 'ts', [train_record(1, 1.0), train_record(2, 0.5)])
    log = osp.join(str(tmp_path), 'ts', 'vis_data', 'scalars.json')
    out = tool.main([log, log, '--keys', 'loss', '--out', str(tmp_path / 'loss.png')])
    assert Image.open(out).size == (700, 260)
    with pytest.raises(ValueError, match=r"\['knn/top1'\] not in the logs"):
        tool.main([log, '--keys', 'knn/top1', '--out', str(tmp_path / 'x.png')])
    with pytest.raises(FileNotFoundError, match='no <timestamp>/vis_data/scalars.json'):
        tool.main([str(tmp_path / 'empty'), '--out', str(tmp_path / 'x.png')])
