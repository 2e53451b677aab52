from typing import List, Optional

from mmpretrain.evaluation import SingleLabelMetric

from simmim_mm.registry import METRICS


@METRICS.register_module()
class PerClassRecall(SingleLabelMetric):
    """The recall of every class (%), one named scalar each: ``recall/<class name>``.

    mmpretrain's SingleLabelMetric computes it (``average=None``) but reports one list,
    ``recall_classwise``, which the log and the runs' JSON files keep as a list; on imbalanced
    data (ELPV: 1,508 / 295 / 106 / 715 cells) the classes' recalls are what top-1 hides.
    Classes are named by the dataset's ``classes`` (its meta), else by their index. A class
    with no test sample has recall 0, as SingleLabelMetric gives it.
    """

    default_prefix = 'recall'

    def __init__(self,
                 num_classes: Optional[int] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(
            items=('recall', ),
            average=None,
            num_classes=num_classes,
            collect_device=collect_device,
            prefix=prefix)

    def compute_metrics(self, results: List) -> dict:
        recalls = super().compute_metrics(results)['recall_classwise']
        names = (self.dataset_meta or {}).get('classes')
        if names is None or len(names) != len(recalls):
            names = [str(i) for i in range(len(recalls))]
        return {str(name): float(value) for name, value in zip(names, recalls)}
