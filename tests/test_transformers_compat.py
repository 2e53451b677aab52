"""With transformers 5 installed (a 2026 environment), plain `import mmpretrain.models` fails,
and `import simmim_mm` still works. Run against the real transformers of this environment."""
import subprocess
import sys

import pytest

from simmim_mm.transformers_compat import transformers_major_version

needs_transformers_5 = pytest.mark.skipif(
    (transformers_major_version() or 0) < 5,
    reason='transformers >= 5 is not installed here (requirements/constraints.txt pins it)')


def python(code):
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          timeout=300)


@needs_transformers_5
def test_workaround_is_still_needed():
    """If this starts passing, mmpretrain works with transformers 5 and the stand-in can go."""
    result = python('import mmpretrain.models')
    assert result.returncode != 0
    assert 'NoneType takes no arguments' in result.stderr


@needs_transformers_5
def test_simmim_mm_imports_and_multimodal_models_say_what_they_need():
    result = python(
        'import simmim_mm, mmpretrain.models\n'
        'from mmpretrain.registry import MODELS\n'
        'assert mmpretrain.models.SwinTransformer and mmpretrain.models.BEiTViT\n'
        'try:\n'
        '    MODELS.build(dict(type="BlipCaption"))\n'
        'except ImportError as error:\n'
        '    print("ImportError:", error)\n')
    assert result.returncode == 0, result.stderr
    assert 'ImportError: BlipCaption is one of mmpretrain' in result.stdout
    assert 'need transformers < 5' in result.stdout


@needs_transformers_5
def test_hugging_face_swin_still_works_beside_it():
    """The model-zoo conversion path uses transformers itself: it imports and builds."""
    result = python(
        'import simmim_mm\n'
        'from transformers import SwinConfig, SwinForMaskedImageModeling\n'
        'model = SwinForMaskedImageModeling(SwinConfig(image_size=32, embed_dim=8, '
        'depths=[1, 1], num_heads=[1, 1], window_size=2, encoder_stride=8))\n'
        'print(sum(p.numel() for p in model.parameters()) > 0)\n')
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'True'
