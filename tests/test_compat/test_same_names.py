"""Four simmim_mm classes share their registered name with an upstream one. In the simmim_mm
scope a config's plain name gets ours; the upstream one stays reachable by its scope prefix,
and other scopes keep theirs."""
import pytest
from mmengine.model.weight_init import PretrainedInit
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_INITIALIZERS
from mmengine.registry import DefaultScope
from mmpretrain import models as mmpretrain_models
from mmpretrain.datasets.transforms import SimMIMMaskGenerator as MMPretrainMaskGenerator
from mmpretrain.registry import MODELS as MMPRETRAIN_MODELS
from mmpretrain.registry import TRANSFORMS as MMPRETRAIN_TRANSFORMS

from simmim_mm.datasets.transforms import SimMIMMaskGenerator
from simmim_mm.models import SimMIM, SimMIMSwinTransformer
from simmim_mm.models.utils.transfer_init import SimMIMPretrainedInit

# name: (the registry an upstream tool builds it from, ours, upstream's, upstream's scope)
SAME_NAMES = {
    'SimMIM': (MMPRETRAIN_MODELS, SimMIM, mmpretrain_models.SimMIM, 'mmpretrain'),
    'SimMIMSwinTransformer': (MMPRETRAIN_MODELS, SimMIMSwinTransformer,
                              mmpretrain_models.SimMIMSwinTransformer, 'mmpretrain'),
    'SimMIMMaskGenerator':
    (MMPRETRAIN_TRANSFORMS, SimMIMMaskGenerator, MMPretrainMaskGenerator, 'mmpretrain'),
    'Pretrained': (MMENGINE_INITIALIZERS, SimMIMPretrainedInit, PretrainedInit, 'mmengine'),
}


def resolve(registry, name, scope):
    """The class a config's ``type=name`` builds under ``default_scope=scope``."""
    with DefaultScope.overwrite_default_scope(scope):
        with registry.switch_scope_and_registry(None) as scoped:
            return scoped.get(name)


@pytest.mark.parametrize('name', SAME_NAMES)
def test_simmim_mm_scope_resolves_ours(name):
    registry, ours, theirs, scope = SAME_NAMES[name]
    assert ours is not theirs
    assert resolve(registry, name, 'simmim_mm') is ours
    assert resolve(registry, f'simmim_mm.{name}', 'simmim_mm') is ours


@pytest.mark.parametrize('name', SAME_NAMES)
def test_upstream_class_stays_reachable(name):
    registry, ours, theirs, scope = SAME_NAMES[name]
    assert resolve(registry, f'{scope}.{name}', 'simmim_mm') is theirs
    assert resolve(registry, name, 'mmpretrain') is theirs
