from typing import Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from simmim_mm.registry import METRICS


@METRICS.register_module()
class ReconstructionLossMetric(BaseMetric):
    """Mean SimMIM reconstruction loss over held-out images, from the ``reconstruction_loss``
    that :meth:`SimMIM.predict` sets on each sample, reported as ``reconstruction/error``
    (a key without "loss": MMEngine's log processor would print a running mean of those).

    Validation loss tracks fine-tuning accuracy (the SimMIM data-scaling study), so it is a
    cheap best-checkpoint criterion: ``CheckpointHook(save_best='reconstruction/error',
    rule='less')``. Draw the masks with :class:`SeededSimMIMMaskGenerator` so that the
    number is comparable across evaluations and runs.
    """

    default_prefix = 'reconstruction'

    def __init__(self, collect_device: str = 'cpu', prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'reconstruction_loss' not in sample:
                raise KeyError('ReconstructionLossMetric needs samples scored by SimMIM '
                               "in mode='predict' (no 'reconstruction_loss' found)")
            self.results.append(float(sample['reconstruction_loss']))

    def compute_metrics(self, results: list) -> dict:
        return dict(error=float(np.mean(results)))
