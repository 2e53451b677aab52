import numpy as np

from simmim_mm.registry import TRANSFORMS

from .mask_generator import SimMIMMaskGenerator


@TRANSFORMS.register_module()
class SeededSimMIMMaskGenerator(SimMIMMaskGenerator):
    """:class:`SimMIMMaskGenerator` whose mask depends only on ``seed`` and the sample's index
    in its dataset, not on the global random state: validation images get the same masks in
    every evaluation, every run and any number of dataloader workers, so validation losses
    compare. Takes the same arguments plus ``seed``; needs ``sample_idx`` (set by every
    MMEngine dataset).
    """

    def __init__(self, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed

    def transform(self, results: dict) -> dict:
        if 'sample_idx' not in results:
            raise KeyError('SeededSimMIMMaskGenerator needs the sample index '
                           "('sample_idx'), which MMEngine datasets set")
        state = np.random.get_state()
        np.random.seed([self.seed, results['sample_idx']])
        try:
            return super().transform(results)
        finally:
            np.random.set_state(state)

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f', seed={self.seed})'
