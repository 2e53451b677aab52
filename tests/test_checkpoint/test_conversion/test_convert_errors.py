"""Bad inputs give an error that names the keys or the file, and no output file."""
import os
import subprocess
import sys

import pytest
import torch

from simmim_mm.checkpoint import CheckpointError, convert_checkpoint, load_checkpoint_file

from checkpoint_helpers import (
    build,
    randomize,
    swin_config_text,
    to_official,
    write_config,
    write_model_index,
)
from conftest import REPO_ROOT


@pytest.fixture
def swin_config(tmp_path):
    return write_config(tmp_path, 'simmim_tiny-swin.py', swin_config_text())


@pytest.fixture
def official_weights(swin_config):
    return to_official(randomize(build(swin_config)).state_dict())


def convert_expecting(tmp_path, weights, config, match, source='official'):
    src, dst = tmp_path / 'src.pth', tmp_path / 'dst.pth'
    torch.save(dict(model=weights), src)
    with pytest.raises(CheckpointError, match=match):
        convert_checkpoint(str(src), str(dst), source, config=config)
    assert not dst.exists()
    assert not [p for p in os.listdir(tmp_path) if p.endswith('.tmp')]


def test_unknown_key_is_named(tmp_path, swin_config, official_weights):
    official_weights['encoder.layers.0.blocks.0.attn.surprise'] = torch.zeros(1)
    convert_expecting(
        tmp_path, official_weights, swin_config,
        r'unknown layout: encoder\.layers\.0\.blocks\.0\.attn\.surprise'.replace('encoder\\.', ''))


def test_missing_key_is_named(tmp_path, swin_config, official_weights):
    del official_weights['encoder.layers.2.blocks.1.mlp.fc2.weight']
    convert_expecting(
        tmp_path, official_weights, swin_config,
        r'missing 1 key\(s\): backbone\.stages\.2\.blocks\.1\.ffn\.layers\.1\.weight')


def test_extra_mapped_key_is_named(tmp_path, swin_config, official_weights):
    official_weights['encoder.layers.3.blocks.2.norm1.weight'] = torch.ones(128)
    convert_expecting(tmp_path, official_weights, swin_config,
                      r'unexpected 1 key\(s\): backbone\.stages\.3\.blocks\.2\.norm1\.weight')


def test_wrong_shape_is_named(tmp_path, swin_config, official_weights):
    official_weights['decoder.0.weight'] = torch.zeros(3072, 64, 1, 1)
    convert_expecting(
        tmp_path, official_weights, swin_config,
        r'neck\.decoder\.0\.weight: shape \(3072, 64, 1, 1\) in the checkpoint, '
        r'\(3072, 128, 1, 1\) in the model')


def test_not_an_official_file(tmp_path, swin_config):
    src, dst = tmp_path / 'src.pth', tmp_path / 'dst.pth'
    torch.save(dict(state_dict={'backbone.x': torch.zeros(1)}), src)
    with pytest.raises(CheckpointError, match='neither "encoder." keys'):
        convert_checkpoint(str(src), str(dst), 'official', config=swin_config)
    assert not dst.exists()


def test_no_config_fits(tmp_path, official_weights):
    configs = tmp_path / 'configs'
    configs.mkdir()
    write_config(configs, 'simmim_w4.py', swin_config_text((4, 4, 4, 2)))
    index = write_model_index(tmp_path, ['configs/simmim_w4.py'])
    src, dst = tmp_path / 'src.pth', tmp_path / 'dst.pth'
    torch.save(dict(model=official_weights), src)
    with pytest.raises(
            CheckpointError,
            match=r'(?s)fits no config.*simmim_w4\.py.*window 2 in the '
            r'checkpoint, 4 in the model'):
        convert_checkpoint(str(src), str(dst), 'official', index=index)
    assert not dst.exists()


class RunsCode:
    """Unpickling this runs a shell command: what a hostile checkpoint does."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def test_hostile_pickle_is_refused_and_does_not_run(tmp_path, official_weights):
    marker = tmp_path / 'payload-ran'
    src, dst = tmp_path / 'hostile.pth', tmp_path / 'dst.pth'
    torch.save(dict(model=official_weights, config=RunsCode(marker)), src)
    with pytest.raises(
            CheckpointError, match=r'hostile\.pth: refused to load.*GLOBAL posix\.system'):
        load_checkpoint_file(str(src))
    with pytest.raises(CheckpointError, match='refused to load'):
        convert_checkpoint(str(src), str(dst), 'official')
    assert not marker.exists()
    assert not dst.exists()


@pytest.mark.parametrize('content', [b'', b'<html>quota</html>', b'PK\x03\x04broken'])
def test_unreadable_file_is_a_clear_error(tmp_path, content):
    src = tmp_path / 'broken.pth'
    src.write_bytes(content)
    with pytest.raises(CheckpointError, match=r'broken\.pth: not a readable checkpoint'):
        load_checkpoint_file(str(src))


def test_yacs_config_loads_as_plain_data_without_yacs_code(tmp_path):
    yacs = pytest.importorskip('yacs.config')
    node = yacs.CfgNode(dict(MODEL=dict(TYPE='swin', DEPTHS=[2, 2, 18, 2]), SEED=0))
    src = tmp_path / 'official.pth'
    torch.save(dict(model={'encoder.mask_token': torch.zeros(1, 1, 4)}, config=node), src)
    loaded = load_checkpoint_file(str(src))['config']
    assert not isinstance(loaded, yacs.CfgNode)
    assert loaded['MODEL']['DEPTHS'] == [2, 2, 18, 2] and loaded['SEED'] == 0


def test_cli_reports_error_and_writes_nothing(tmp_path, official_weights):
    official_weights['encoder.bogus'] = torch.zeros(1)
    src, dst = tmp_path / 'src.pth', tmp_path / 'dst.pth'
    torch.save(dict(model=official_weights), src)
    result = subprocess.run([
        sys.executable,
        os.path.join(REPO_ROOT, 'tools', 'convert_checkpoint.py'),
        str(src),
        str(dst), '--from', 'official'
    ],
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 1
    assert 'error:' in result.stderr and 'bogus' in result.stderr
    assert not dst.exists()
