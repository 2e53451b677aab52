"""The metafile and the model-zoo tool: what it lists, and download + convert end to end
against a loopback server."""
import importlib.util
import os
import os.path as osp
import re

import pytest
import torch
import yaml
from mmengine.runner import load_checkpoint

from simmim_mm.checkpoint import SOURCES, CheckpointError, model_zoo
from simmim_mm.checkpoint.model_zoo import (
    MODEL_INDEX,
    download_model,
    fetch,
    file_name,
    load_models,
    readme_table,
    resolve_checkpoint,
)
from simmim_mm.package_files import MIM_DIR
from simmim_mm.registry import WEIGHT_INITIALIZERS

from checkpoint_helpers import (
    build,
    checkpoint_files,
    randomize,
    swin_config_text,
    to_official,
    write_config,
)
from conftest import REPO_ROOT
from loopback_server import LoopbackServer

MODELS = load_models()


def tool(name):
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO_ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_model_index_imports_the_metafile():
    with open(MODEL_INDEX) as f:
        assert yaml.safe_load(f) == {'Import': ['configs/metafile.yml']}


def test_metafile_lists_every_published_checkpoint_of_the_design():
    urls = ' '.join(m['Weights'] for m in MODELS)
    for drive_id in (
            '1Wcbr66JL26FF30Kip9fZa_0lXrDAKP-d',
            '15zENvGjHlM71uKQ3d2FbljWPubtrPtjl',
            '1qDxrTl2YUDB0505_4QrU5LU2R1kKmcBP',
            '1dJn6GYkwMIcoP3zqOEyW1_iQfpBi8UOw',
            # fine-tuned, from microsoft/SimMIM's README
            '1RsgHfjB4B1ZYblXEQVT-FPX3WSvBrxcs',
            '1mb43BkW56F5smwiX-g7QUUD7f1Rftq8u',
            '1xEKyfMTsdh6TfnYhk5vbw0Yz7a-viZ0w',
            '1mf0ZpXttEvFsH87Www4oQ-t8Kwr0x485',
            '1fKgDYd0tRgyHyTnyB1CleYxjo0Gn5tEB'):
        assert f'id={drive_id}' in urls
    for sha in ('0e15782d', 'a0e931ac', '4ad216d3'):
        assert f'-{sha}.pth' in urls
    for repo in ('microsoft/swin-base-simmim-window6-192',
                 'microsoft/swin-large-simmim-window12-192'):
        assert f'huggingface.co/{repo}/' in urls


@pytest.mark.parametrize('model', MODELS, ids=[m['Name'] for m in MODELS])
def test_metafile_entry_is_complete(model):
    meta = model['Metadata']
    assert [m['Name'] for m in MODELS].count(model['Name']) == 1
    assert model['In Collection'] == 'SimMIM'
    assert model['Weights'].startswith('https://')
    assert meta['Architecture'] and meta['Image Size'] in (192, 224)
    assert meta['Source Format'] in set(SOURCES) | {'none'}
    sha = meta.get('SHA256')
    assert sha is None or re.fullmatch(r'[0-9a-f]{8}|[0-9a-f]{64}', sha)
    if sha and len(sha) == 8:  # OpenMMLab names carry the sha256 prefix
        assert file_name(model).endswith(f'-{sha}.pth')
    config = model.get('Config')
    if config is None:
        assert meta.get('Note'), 'a model without a config says why'
    elif config.startswith('mmpretrain::'):
        import mmpretrain
        assert osp.isfile(
            osp.join(
                osp.dirname(mmpretrain.__file__), '.mim', 'configs', config[len('mmpretrain::'):]))
    else:
        assert osp.isfile(osp.join(MIM_DIR, config))
    if meta['Publisher'] == 'microsoft/SimMIM':
        assert model['Results'][0]['Metrics']['Top 1 Accuracy'] > 80


def test_readme_table_has_a_row_per_model():
    table = readme_table(MODELS).splitlines()
    assert len(table) == 2 + len(MODELS)
    assert '| simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px_official | Swin-B/w6 | ' \
        '100 | microsoft/SimMIM | ' \
        '82.8 (192px w6), 83.5 (224px w7) | ' \
        '[simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py]' \
        '(configs/pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py) |' \
        in '\n'.join(table)


def test_cli_table_info_and_unknown_name(capsys):
    cli = tool('model_zoo')
    assert cli.main(['table']) == 0
    assert capsys.readouterr().out == readme_table(MODELS)
    assert cli.main(['info', 'simmim_vit-base-p16_16xb128-amp-step-800e_in1k-224px']) == 0
    out = capsys.readouterr().out
    assert 'configs/pretrain/simmim_vit-base-p16_16xb128-amp-step-800e_in1k-224px.py' in out
    assert '83.8' in out
    assert cli.main(['info', 'simmim_swin-base-w6_16xb128-amp-coslr-100e']) == 1
    err = capsys.readouterr().err
    assert 'did you mean simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px_official' in err
    assert '-100e_in1k-192px_mmpretrain' in err


@pytest.fixture
def zoo(tmp_path):
    """A model index whose one model is an official-layout tiny Swin on a loopback server."""
    config = write_config(tmp_path, 'simmim_tiny.py', swin_config_text())
    original = randomize(build(config))
    src = tmp_path / 'official.pth'
    torch.save(dict(model=to_official(original.state_dict()), epoch=9), src)
    data = src.read_bytes()
    import hashlib
    with LoopbackServer() as server:
        server.files['/tiny.pth'] = data
        meta = dict(Models=[
            dict(
                Name='tiny',
                Config='simmim_tiny.py',
                Weights=server.url + '/tiny.pth',
                Metadata={
                    'Architecture': 'tiny',
                    'Source Format': 'official',
                    'SHA256': hashlib.sha256(data).hexdigest()
                })
        ])
        (tmp_path / 'metafile.yml').write_text(yaml.safe_dump(meta))
        (tmp_path / 'model-index.yml').write_text(yaml.safe_dump({'Import': ['metafile.yml']}))
        yield dict(
            index=str(tmp_path / 'model-index.yml'),
            root=str(tmp_path / 'cache'),
            server=server,
            config=config,
            original=original)


def test_download_and_convert_end_to_end(zoo):
    path = download_model(
        'tiny', convert=True, root=zoo['root'], progress=False, index=zoo['index'])
    assert path == osp.join(zoo['root'], 'tiny', 'tiny_converted.pth')
    model = build(zoo['config'])
    load_checkpoint(model, path, map_location='cpu', strict=True, logger='silent')
    for key, value in zoo['original'].state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    # both the download and the conversion are cached
    requests = len(zoo['server'].requests)
    assert download_model('tiny', convert=True, root=zoo['root'], index=zoo['index']) == path
    assert len(zoo['server'].requests) == requests == 1
    assert checkpoint_files(osp.join(zoo['root'], 'tiny')) == ['tiny.pth', 'tiny_converted.pth']


def test_a_checkpoint_field_takes_a_zoo_name(zoo, monkeypatch):
    """``checkpoint=`` of the Pretrained initializer (continued pretraining as the whole
    model's init_cfg, fine-tuning as the backbone's) takes a model-zoo name: downloaded,
    converted and cached once, then read from the cache."""
    monkeypatch.setattr(fetch, 'MODEL_INDEX', zoo['index'])
    monkeypatch.setenv('SIMMIM_MM_CACHE', zoo['root'])
    model = randomize(build(zoo['config']), seed=1)
    WEIGHT_INITIALIZERS.build(dict(type='Pretrained', checkpoint='tiny'))(model)
    for key, value in zoo['original'].state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    converted = osp.join(zoo['root'], 'tiny', 'tiny_converted.pth')
    assert resolve_checkpoint('tiny') == converted
    assert resolve_checkpoint(converted) == converted
    assert len(zoo['server'].requests) == 1
    with pytest.raises(
            FileNotFoundError,
            match="checkpoint='tiyn' is neither a file nor a model-zoo name.*tiny"):
        resolve_checkpoint('tiyn')


def test_download_convert_refuses_a_hostile_file(zoo):
    marker = osp.join(zoo['root'], 'payload-ran')

    class RunsCode:

        def __reduce__(self):
            return (os.system, (f'touch {marker}', ))

    import io
    buffer = io.BytesIO()
    torch.save(dict(model={}, config=RunsCode()), buffer)
    zoo['server'].files['/tiny.pth'] = buffer.getvalue()
    index = yaml.safe_load(open(osp.join(osp.dirname(zoo['index']), 'metafile.yml')))
    index['Models'][0]['Metadata']['SHA256'] = None
    with open(osp.join(osp.dirname(zoo['index']), 'metafile.yml'), 'w') as f:
        yaml.safe_dump(index, f)
    with pytest.raises(CheckpointError, match='refused to load'):
        download_model('tiny', convert=True, root=zoo['root'], progress=False, index=zoo['index'])
    assert not osp.exists(marker)
    assert checkpoint_files(osp.join(zoo['root'], 'tiny')) == ['tiny.pth']


def test_hugging_face_download_and_convert_through_huggingface_hub(tmp_path):
    """A Hugging Face URL is fetched by huggingface_hub (here from a loopback endpoint
    standing in for huggingface.co), then converted and loaded exactly."""
    transformers = pytest.importorskip('transformers')
    pytest.importorskip('huggingface_hub')
    from checkpoint_helpers import TINY_SWIN
    hf = randomize(
        transformers.SwinForMaskedImageModeling(
            transformers.SwinConfig(
                image_size=64,
                patch_size=4,
                embed_dim=TINY_SWIN['embed_dims'],
                depths=TINY_SWIN['depths'],
                num_heads=TINY_SWIN['num_heads'],
                window_size=2,
                encoder_stride=32)))
    src = tmp_path / 'pytorch_model.bin'
    torch.save(hf.state_dict(), src)
    config = write_config(tmp_path, 'simmim_tiny.py', swin_config_text())
    meta = dict(Models=[
        dict(
            Name='tiny_hf',
            Config='simmim_tiny.py',
            Metadata={'Source Format': 'hf'},
            # a Hugging Face location, served by the loopback server through hf_endpoint
            Weights=f'{model_zoo.HF_HOST}/org/tiny-simmim/resolve/main/pytorch_model.bin')
    ])
    (tmp_path / 'metafile.yml').write_text(yaml.safe_dump(meta))
    (tmp_path / 'model-index.yml').write_text(yaml.safe_dump({'Import': ['metafile.yml']}))
    with LoopbackServer() as server:
        server.files['/org/tiny-simmim/resolve/main/pytorch_model.bin'] = src.read_bytes()
        path = download_model(
            'tiny_hf',
            convert=True,
            root=str(tmp_path / 'cache'),
            index=str(tmp_path / 'model-index.yml'),
            hf_endpoint=server.url)
    file_path = '/org/tiny-simmim/resolve/main/pytorch_model.bin'
    assert server.requests == [('HEAD ' + file_path, None), (file_path, None)]
    assert osp.join('cache', 'huggingface') in ' '.join(
        osp.join(d, f) for d, _, fs in os.walk(tmp_path / 'cache') for f in fs)
    model = build(config)
    load_checkpoint(model, path, map_location='cpu', strict=True, logger='silent')
    from checkpoint_helpers import random_mask
    x, mask = torch.randn(1, 3, 64, 64), random_mask(1, 16, 16)
    hf.eval()
    with torch.no_grad():
        expected = hf(pixel_values=x, bool_masked_pos=mask.flatten(1).bool()).reconstruction
        torch.testing.assert_close(model.reconstruct(x, mask), expected, rtol=1e-4, atol=1e-4)


def test_converting_an_mmpretrain_classifier_is_refused_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setattr(fetch, 'download_url', lambda *a, **k: str(tmp_path / 'x.pth'))
    with pytest.raises(ValueError, match='already an mmpretrain checkpoint'):
        download_model(
            'swin-base-w6_simmim-100e-pre_8xb256-coslr-100e_in1k-192px_mmpretrain',
            convert=True,
            root=str(tmp_path))
