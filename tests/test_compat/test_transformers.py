"""With transformers 5 installed (a 2026 environment), plain `import mmpretrain.models` fails,
and `import simmim_mm` still works. Run against the real transformers 5: this environment's own,
or the copy that make setup installs beside .venv's transformers 4 (.venv/transformers-5)."""
import subprocess
import sys

import pytest

from conftest import transformers_5_python

needs_transformers_5 = pytest.mark.skipif(
    transformers_5_python() is None,
    reason='transformers >= 5 is not installed here, nor beside it in .venv/transformers-5 '
    '(make setup installs it there)')


def python(code):
    return subprocess.run([transformers_5_python(), '-c', code],
                          capture_output=True,
                          text=True,
                          timeout=300)


@needs_transformers_5
def test_that_is_transformers_5():
    result = python('import transformers; print(transformers.__version__)')
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split('.')[0]) >= 5, result.stdout


@needs_transformers_5
def test_workaround_is_still_needed():
    """If this starts passing, mmpretrain works with transformers 5 and the stand-in can go."""
    result = python('import mmpretrain.models')
    assert result.returncode != 0
    assert 'NoneType takes no arguments' in result.stderr


@needs_transformers_5
def test_simmim_mm_imports_and_multimodal_models_say_what_they_need():
    result = python('import simmim_mm, mmpretrain.models\n'
                    'from mmpretrain.registry import MODELS\n'
                    'assert mmpretrain.models.SwinTransformer and mmpretrain.models.BEiTViT\n'
                    'try:\n'
                    '    MODELS.build(dict(type="BlipCaption"))\n'
                    'except ImportError as error:\n'
                    '    print("ImportError:", error)\n')
    assert result.returncode == 0, result.stderr
    assert 'ImportError: BlipCaption is one of mmpretrain' in result.stdout
    assert 'need transformers < 4.52' in result.stdout


@needs_transformers_5
def test_hugging_face_swin_still_works_beside_it():
    """The model-zoo conversion path uses transformers itself: it imports and builds."""
    result = python('import simmim_mm\n'
                    'from transformers import SwinConfig, SwinForMaskedImageModeling\n'
                    'model = SwinForMaskedImageModeling(SwinConfig(image_size=32, embed_dim=8, '
                    'depths=[1, 1], num_heads=[1, 1], window_size=2, encoder_stride=8))\n'
                    'print(sum(p.numel() for p in model.parameters()) > 0)\n')
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'True'


@pytest.mark.skipif(
    transformers_5_python() == sys.executable,
    reason='this environment has transformers 5, where mmpretrain.models '
    'imports only after simmim_mm')
def test_mmpretrain_first_works_in_this_environment():
    """make setup's .venv pins transformers 4: a user's script, notebook or OpenMMLab tool
    that imports mmpretrain before simmim_mm works there."""
    result = subprocess.run([
        sys.executable, '-c', 'from mmpretrain import get_model\nimport mmpretrain.models\n'
        'import simmim_mm\nprint(mmpretrain.models.BlipCaption.__name__)'
    ],
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'BlipCaption'
