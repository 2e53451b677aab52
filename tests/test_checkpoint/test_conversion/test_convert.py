"""Conversions checked numerically: a converted model reconstructs exactly what the source
implementation does on the same input and mask (Hugging Face and mmpretrain models built
offline with random weights), and the official layout by round trip and PatchMerging order."""
import os.path as osp

import pytest
import torch
from mmengine.runner import load_checkpoint

from simmim_mm.checkpoint import CheckpointError, convert_checkpoint
from simmim_mm.checkpoint.conversion.config_match import build_model
from simmim_mm.checkpoint.conversion.patch_merging import official_to_openmmlab
from simmim_mm.package_files import CONFIG_DIR
from simmim_mm.registry import MODELS

from checkpoint_helpers import (
    TINY_SWIN,
    TINY_VIT,
    build,
    random_mask,
    randomize,
    swin_config_text,
    to_official,
    vit_config_text,
    write_config,
    write_model_index,
)


@pytest.fixture
def swin_config(tmp_path):
    return write_config(tmp_path, 'simmim_tiny-swin.py', swin_config_text())


@pytest.fixture
def vit_config(tmp_path):
    return write_config(tmp_path, 'simmim_tiny-vit.py', vit_config_text())


def load_converted(config, path):
    """Load as a config's `load_from` does, but strictly: every key must be there."""
    model = build(config)
    load_checkpoint(model, path, map_location='cpu', strict=True, logger='silent')
    return model


# ---------------------------------------------------------------- Hugging Face
def hf_swin(windows=2):
    transformers = pytest.importorskip('transformers')
    config = transformers.SwinConfig(
        image_size=64,
        patch_size=4,
        num_channels=3,
        embed_dim=TINY_SWIN['embed_dims'],
        depths=TINY_SWIN['depths'],
        num_heads=TINY_SWIN['num_heads'],
        window_size=windows,
        encoder_stride=32)
    model = randomize(transformers.SwinForMaskedImageModeling(config))
    model.eval()
    return model


# transformers 5.x names for the 4.x ones its SwinForMaskedImageModeling loads
TRANSFORMERS_5_NAMES = [('attention.self.query.', 'attention.q_proj.'),
                        ('attention.self.key.', 'attention.k_proj.'),
                        ('attention.self.value.', 'attention.v_proj.'),
                        ('attention.output.dense.', 'attention.o_proj.'),
                        ('attention.self.relative_position_bias_table',
                         'attention.relative_position_bias.relative_position_bias_table'),
                        ('intermediate.dense.', 'mlp.fc1.'), ('output.dense.', 'mlp.fc2.')]


def hf_names(state_dict, generation):
    """The state dict in transformers 4.x names (the published files) or 5.x names, whichever
    generation the installed transformers builds its model in."""
    pairs = TRANSFORMERS_5_NAMES if generation == 5 else [(b, a) for a, b in TRANSFORMERS_5_NAMES]
    out = {}
    for key, value in state_dict.items():
        for old, new in pairs:
            key = key.replace(old, new)
        out[key] = value
    return out


@pytest.mark.parametrize('suffix,names', [('.bin', 4), ('.safetensors', 4), ('.bin', 5)])
def test_hf_swin_reconstructs_exactly(tmp_path, swin_config, suffix, names):
    hf = hf_swin()
    state_dict = hf_names(hf.state_dict(), names)
    assert (names == 5) == any('q_proj' in k for k in state_dict)
    assert (names == 4) == any('attention.self.query' in k for k in state_dict)
    src, dst = str(tmp_path / f'hf{suffix}'), str(tmp_path / 'converted.pth')
    if suffix == '.bin':
        torch.save(state_dict, src)
    else:
        from safetensors.torch import save_file
        save_file({k: v.contiguous() for k, v in state_dict.items()}, src)
    convert_checkpoint(src, dst, 'hf', config=swin_config)
    ours = load_converted(swin_config, dst)

    x, mask = torch.randn(2, 3, 64, 64), random_mask(2, 16, 16)
    with torch.no_grad():
        expected = hf(pixel_values=x, bool_masked_pos=mask.flatten(1).bool()).reconstruction
        got = ours.reconstruct(x, mask)
    assert got.shape == expected.shape == (2, 3, 64, 64)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)
    # the mask token matters: another mask gives another reconstruction
    assert not torch.allclose(ours.reconstruct(x, 1 - mask), got, atol=1e-3)


def test_hf_vit_is_refused_with_the_reason(tmp_path):
    transformers = pytest.importorskip('transformers')
    config = transformers.ViTConfig(
        image_size=32,
        patch_size=16,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        encoder_stride=16)
    src, dst = tmp_path / 'vit.bin', tmp_path / 'out.pth'
    torch.save(transformers.ViTForMaskedImageModeling(config).state_dict(), src)
    with pytest.raises(CheckpointError, match='absolute position embedding'):
        convert_checkpoint(str(src), str(dst), 'hf')
    assert not dst.exists()


# ---------------------------------------------------------------- mmpretrain
def mmpretrain_simmim(windows=2, pad_small_map=False):
    model = MODELS.build(
        dict(
            type='mmpretrain.SimMIM',
            backbone=dict(
                type='mmpretrain.SimMIMSwinTransformer',
                arch=TINY_SWIN,
                img_size=64,
                stage_cfgs=dict(block_cfgs=dict(window_size=windows)),
                pad_small_map=pad_small_map),
            neck=dict(type='mmpretrain.SimMIMLinearDecoder', in_channels=128, encoder_stride=32),
            head=dict(
                type='mmpretrain.SimMIMHead',
                patch_size=4,
                loss=dict(type='mmpretrain.PixelReconstructionLoss', criterion='L1', channel=3))))
    randomize(model)
    model.eval()
    return model


def test_mmpretrain_reconstructs_exactly(tmp_path, swin_config):
    theirs = mmpretrain_simmim()
    src, dst = tmp_path / 'mmpretrain.pth', str(tmp_path / 'converted.pth')
    torch.save(dict(meta=dict(epoch=1), state_dict=theirs.state_dict()), src)
    convert_checkpoint(str(src), dst, 'mmpretrain', config=swin_config)
    ours = load_converted(swin_config, dst)

    x, mask = torch.randn(2, 3, 64, 64), random_mask(2, 16, 16, seed=1)
    with torch.no_grad():
        expected = theirs.neck(theirs.backbone(x, mask)[0])
        got = ours.reconstruct(x, mask)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_mmpretrain_padded_small_map_is_refused_naming_the_tables(tmp_path):
    """mmpretrain's Swin-L pads its 6x6 last stage to window 12; the official Swin (and our
    config) shrinks the window to 6: the tables differ and the error says so."""
    config = write_config(tmp_path, 'simmim_w4.py', swin_config_text((4, 4, 4, 2)))
    src, dst = tmp_path / 'mmpretrain.pth', tmp_path / 'out.pth'
    torch.save(dict(state_dict=mmpretrain_simmim(4, True).state_dict()), src)
    with pytest.raises(
            CheckpointError,
            match=r'stages\.3\.blocks\.0\.attn\.w_msa\.relative_position_bias_table'
            r'.*window 4 in the checkpoint, 2 in the model'):
        convert_checkpoint(str(src), str(dst), 'mmpretrain', config=config)
    assert not dst.exists()


# ---------------------------------------------------------------- official
def official_patch_merging(x, hw, norm, reduction):
    """microsoft/SimMIM's PatchMerging.forward."""
    b, _, c = x.shape
    x = x.view(b, *hw, c)
    x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
    return reduction(norm(x.view(b, -1, 4 * c)))


def test_patch_merging_channel_order_matches_official():
    from mmpretrain.models.utils import PatchMerging
    c, hw = 8, (6, 4)
    norm, reduction = torch.nn.LayerNorm(4 * c), torch.nn.Linear(4 * c, 2 * c, bias=False)
    randomize(norm), randomize(reduction, seed=1)
    ours = PatchMerging(in_channels=c, out_channels=2 * c)
    with torch.no_grad():
        ours.norm.weight.copy_(official_to_openmmlab(norm.weight))
        ours.norm.bias.copy_(official_to_openmmlab(norm.bias))
        ours.reduction.weight.copy_(official_to_openmmlab(reduction.weight))
        x = torch.randn(2, hw[0] * hw[1], c)
        expected = official_patch_merging(x, hw, norm, reduction)
        got, out_hw = ours(x, hw)
    assert tuple(out_hw) == (3, 2)
    torch.testing.assert_close(got, expected)
    # and the identity order would be wrong, so the test can fail
    with torch.no_grad():
        ours.reduction.weight.copy_(reduction.weight)
        ours.norm.weight.copy_(norm.weight), ours.norm.bias.copy_(norm.bias)
        assert not torch.allclose(ours(x, hw)[0], expected, atol=1e-3)


def official_file(tmp_path, model_state, name='official.pth'):
    """An official pretraining file: ['model'] with encoder.* / decoder.0.*, buffers, and the
    optimizer, epoch and yacs config beside it."""
    yacs = pytest.importorskip('yacs.config')
    weights = to_official(model_state)
    if 'encoder.layers.0.blocks.1.norm1.weight' in weights:  # a shifted Swin block
        weights['encoder.layers.0.blocks.1.attn_mask'] = torch.zeros(64, 4, 4)
    config = yacs.CfgNode(dict(MODEL=dict(TYPE='swin', NAME='simmim'), DATA=dict(IMG_SIZE=192)))
    path = tmp_path / name
    torch.save(
        dict(
            model=weights,
            optimizer=dict(state={}, param_groups=[dict(lr=1e-4)]),
            lr_scheduler=dict(t_initial=100),
            epoch=99,
            config=config), path)
    return str(path)


@pytest.mark.parametrize('arch', ['swin', 'vit'])
def test_official_round_trip(tmp_path, arch, swin_config, vit_config):
    config = swin_config if arch == 'swin' else vit_config
    original = randomize(build(config))
    src, dst = official_file(tmp_path, original.state_dict()), str(tmp_path / 'converted.pth')
    convert_checkpoint(src, dst, 'official', config=config)
    restored = load_converted(config, dst)
    for key, value in original.state_dict().items():
        assert torch.equal(restored.state_dict()[key], value), key
    size = 64 if arch == 'swin' else 32
    grid = (16, 16) if arch == 'swin' else (2, 2)
    x, mask = torch.randn(1, 3, size, size), random_mask(1, *grid)
    with torch.no_grad():
        torch.testing.assert_close(restored.reconstruct(x, mask), original.reconstruct(x, mask))


def test_official_matches_a_config_by_itself(tmp_path):
    """Without --config the weights pick the first config of the model index that they fit
    (same width, other windows in the first); a config the index does not name is not tried,
    whatever its file name."""
    (tmp_path / 'configs').mkdir()
    config = write_config(tmp_path / 'configs', 'tiny-w2.py', swin_config_text())
    write_config(tmp_path / 'configs', 'tiny-w4.py', swin_config_text((4, 4, 4, 2)))
    write_config(tmp_path / 'configs', 'simmim_a-unlisted.py', swin_config_text())
    index = write_model_index(tmp_path, ['configs/tiny-w4.py', 'configs/tiny-w2.py'])
    original = randomize(build(config))
    src = official_file(tmp_path, original.state_dict())
    chosen = convert_checkpoint(src, str(tmp_path / 'out.pth'), 'official', index=index)
    assert chosen == config
    assert torch.load(tmp_path / 'out.pth')['meta']['config'] == 'configs/tiny-w2.py'


@pytest.mark.parametrize(
    'config,also', [('pretrain/simmim_swin-base-w6_16xb128-amp-coslr-100e_in1k-192px.py',
                     'pretrain/simmim_swin-base-w6_16xb128-amp-step-800e_in1k-192px.py'),
                    ('pretrain/simmim_vit-base-p16_16xb128-amp-step-800e_in1k-224px.py', None)])
def test_official_full_size_loads_into_the_shipped_config(tmp_path, config, also):
    """Full-size Swin-B / ViT-B in official names convert onto the configs that
    configs/metafile.yml names, found without --config, and load there strictly
    (load_from-style) with every tensor equal."""
    model = build(osp.join(CONFIG_DIR, config))
    src, dst = official_file(tmp_path, model.state_dict()), str(tmp_path / 'out.pth')
    chosen = convert_checkpoint(src, dst, 'official')
    assert osp.relpath(chosen, CONFIG_DIR) in (config, also)
    restored = load_converted(chosen, dst)
    for key, value in model.state_dict().items():
        assert torch.equal(restored.state_dict()[key], value), key


# ---------------------------------------------------------------- fine-tuned
def classifier(arch):
    if arch == 'swin':
        backbone = dict(
            type='mmpretrain.SwinTransformer',
            arch=TINY_SWIN,
            img_size=64,
            stage_cfgs=dict(block_cfgs=dict(window_size=2)))
        width = 128
    else:
        backbone = dict(
            type='mmpretrain.BEiTViT',
            arch=TINY_VIT,
            img_size=32,
            patch_size=16,
            use_abs_pos_emb=False,
            use_rel_pos_bias=True,
            out_type='avg_featmap',
            final_norm=False)
        width = TINY_VIT['embed_dims']
    model = MODELS.build(
        dict(
            type='mmpretrain.ImageClassifier',
            backbone=backbone,
            neck=None if arch == 'vit' else dict(type='mmpretrain.GlobalAveragePooling'),
            head=dict(type='mmpretrain.LinearClsHead', num_classes=5, in_channels=width)))
    model.eval()
    return model


@pytest.mark.parametrize('arch', ['swin', 'vit'])
def test_official_finetuned_to_mmpretrain_classifier(tmp_path, arch):
    original = randomize(classifier(arch))
    weights = to_official(original.state_dict(), prefix='')
    src, dst = tmp_path / 'finetuned.pth', str(tmp_path / 'classifier.pth')
    torch.save(dict(model=weights, epoch=99), src)
    assert convert_checkpoint(str(src), dst, 'official') is None
    restored = classifier(arch)
    load_checkpoint(restored, dst, map_location='cpu', strict=False, logger='silent')
    missing = set(original.state_dict()) - set(torch.load(dst)['state_dict'])
    assert all(k.endswith('relative_position_index') for k in missing), missing
    size = 64 if arch == 'swin' else 32
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        torch.testing.assert_close(restored(x), original(x))


def test_finetuned_swin_checked_against_a_classifier_config(tmp_path):
    original = randomize(classifier('swin'))
    src, dst = tmp_path / 'finetuned.pth', tmp_path / 'classifier.pth'
    torch.save(dict(model=to_official(original.state_dict(), prefix='')), src)
    config = write_config(
        tmp_path, 'cls.py', f"model = dict(type='mmpretrain.ImageClassifier', "
        f"backbone=dict(type='mmpretrain.SwinTransformer', arch={TINY_SWIN!r}, "
        "img_size=64, stage_cfgs=dict(block_cfgs=dict(window_size=2))), "
        "neck=dict(type='mmpretrain.GlobalAveragePooling'), "
        "head=dict(type='mmpretrain.LinearClsHead', num_classes=7, "
        "in_channels=128))\n")
    with pytest.raises(
            CheckpointError,
            match=r'head\.fc\.weight: shape \(5, 128\) in the '
            r'checkpoint, \(7, 128\) in the model'):
        convert_checkpoint(str(src), str(dst), 'official', config=config)
    assert not dst.exists()


def test_official_file_of_neither_kind_is_refused(tmp_path):
    src = tmp_path / 'x.pth'
    torch.save(dict(model={'blocks.0.norm1.weight': torch.ones(2)}), src)
    with pytest.raises(CheckpointError, match='neither "encoder." keys'):
        convert_checkpoint(str(src), str(tmp_path / 'out.pth'), 'official')


def test_official_finetuned_swin_b_fits_mmpretrain_benchmark_config(tmp_path):
    """An official Swin-B/w7 fine-tuned file (names of the official layout, 1000 classes)
    converts onto mmpretrain's own SimMIM fine-tuning config, given as package::path."""
    config = 'mmpretrain::simmim/benchmarks/swin-base-w7_8xb256-coslr-100e_in1k.py'
    reference = build_model(config)
    src, dst = tmp_path / 'finetuned.pth', tmp_path / 'classifier.pth'
    torch.save(dict(model=to_official(reference.state_dict(), prefix='')), src)
    assert convert_checkpoint(str(src), str(dst), 'official', config=config) == config
    converted = torch.load(dst)
    assert converted['meta']['config'] == config
    assert set(converted['state_dict']) == set(reference.state_dict())


def test_cli_converts(tmp_path, swin_config, capsys):
    import importlib.util

    from conftest import REPO_ROOT
    spec = importlib.util.spec_from_file_location(
        'convert_checkpoint', osp.join(REPO_ROOT, 'tools', 'convert_checkpoint.py'))
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    original = randomize(build(swin_config))
    src, dst = official_file(tmp_path, original.state_dict()), str(tmp_path / 'out.pth')
    assert cli.main([src, dst, '--from', 'official', '--config', swin_config]) == 0
    assert f'wrote {dst} (from official, fits {swin_config})' in capsys.readouterr().out
    restored = load_converted(swin_config, dst)
    torch.testing.assert_close(restored.state_dict(), original.state_dict())
