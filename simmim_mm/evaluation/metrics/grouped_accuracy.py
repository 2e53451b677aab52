from typing import Dict, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric

from simmim_mm.registry import METRICS


@METRICS.register_module()
class GroupedAccuracy(BaseMetric):
    """Accuracy (%) after merging classes into groups: a prediction is right when it falls in
    the true class's group. Reported as ``accuracy/<group>-vs-<group>...``.

    ELPV's 4 defect-probability classes make the published binary task this way,
    ``groups=dict(functional=[0, 1], defective=[2, 3])`` -> ``accuracy/functional-vs-defective``
    (Deitsch et al. 2019: a cell with probability >= 0.5 is defective).

    Args:
        groups: group name -> the class indices it holds; every class in exactly one group.
    """

    default_prefix = 'accuracy'

    def __init__(self,
                 groups: Dict[str, Sequence[int]],
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        if len(groups) < 2:
            raise ValueError(f'groups: needs at least 2 groups, got {dict(groups)}')
        self.group_of: Dict[int, int] = {}
        for index, classes in enumerate(groups.values()):
            for cls in classes:
                if int(cls) in self.group_of:
                    raise ValueError(f'groups: class {cls} is in more than one group')
                self.group_of[int(cls)] = index
        self.name = '-vs-'.join(groups)

    def _group(self, label: int) -> int:
        if label not in self.group_of:
            raise KeyError(f'groups: class {label} is in no group {sorted(self.group_of)}')
        return self.group_of[label]

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            if 'pred_score' in sample:
                pred = int(torch.as_tensor(sample['pred_score']).argmax())
            else:
                pred = int(torch.as_tensor(sample['pred_label']).reshape(-1)[0])
            target = int(torch.as_tensor(sample['gt_label']).reshape(-1)[0])
            self.results.append(self._group(pred) == self._group(target))

    def compute_metrics(self, results: list) -> dict:
        return {self.name: 100.0 * sum(results) / len(results)}
