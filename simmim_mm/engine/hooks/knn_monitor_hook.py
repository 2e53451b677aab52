import random
from collections import defaultdict
from typing import Optional

from mmengine.dataset import default_collate
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch.utils.data import DataLoader, Subset

from simmim_mm.evaluation import embed_dataset, knn_accuracy
from simmim_mm.registry import DATASETS, HOOKS


@HOOKS.register_module()
class KNNMonitorHook(Hook):
    """Every ``interval`` epochs (iterations with ``by_epoch=False``) and at the end of
    training, classifies a small labeled ``val_dataset`` by kNN over the unmasked encoder's
    pooled features of a labeled ``train_dataset``, and logs the top-1 (percent) as
    ``knn/top1`` to the log and the visualizer's backends: representation quality without
    fine-tuning.

    Both datasets are dataset configs (labeled, e.g. CustomDataset over class folders) with a
    deterministic pipeline (resize, center crop, PackInputs). ``per_class`` keeps a seeded
    random subset of at most that many images of every class in each (a dataset's
    ``indices=N`` would take the first N files of a class-sorted folder: a few classes only).
    Runs on rank 0 only.
    """

    priority = 'LOW'

    def __init__(self,
                 train_dataset: dict,
                 val_dataset: dict,
                 interval: int = 1,
                 by_epoch: bool = True,
                 k: int = 20,
                 temperature: float = 0.07,
                 batch_size: int = 32,
                 num_workers: int = 0,
                 per_class: Optional[int] = None,
                 seed: int = 0):
        if interval < 1:
            raise ValueError(f'KNNMonitorHook: interval must be >= 1, got {interval}')
        self.dataset_cfgs = dict(train_dataset=train_dataset, val_dataset=val_dataset)
        self.interval = interval
        self.by_epoch = by_epoch
        self.k = k
        self.temperature = temperature
        self.batch_size = batch_size
        self.num_workers = num_workers
        self.per_class = per_class
        self.seed = seed
        self._loaders: Optional[dict] = None
        self._last_step: Optional[int] = None
        self.last_top1: Optional[float] = None

    def before_train(self, runner) -> None:
        if runner.rank == 0:
            self._loaders = {
                name: self._loader(name, cfg)
                for name, cfg in self.dataset_cfgs.items()
            }

    def _loader(self, name: str, cfg) -> DataLoader:
        dataset = DATASETS.build(cfg) if isinstance(cfg, dict) else cfg
        if len(dataset) == 0:
            raise ValueError(f'KNNMonitorHook: {name} is empty')
        if hasattr(dataset, 'get_data_info') and 'gt_label' not in dataset.get_data_info(0):
            raise ValueError(f'KNNMonitorHook: {name} has no labels (kNN needs a labeled '
                             'dataset, e.g. CustomDataset over class folders)')
        if self.per_class is not None:
            dataset = balanced_subset(dataset, self.per_class, self.seed)
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=False,
            num_workers=self.num_workers,
            collate_fn=default_collate)

    def evaluate(self, runner, step: int) -> float:
        """kNN top-1 (percent) of the val set now; logged at ``step``."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        was_training = model.training
        model.eval()
        try:
            bank, bank_labels = embed_dataset(model, self._loaders['train_dataset'])
            queries, query_labels = embed_dataset(model, self._loaders['val_dataset'])
        finally:
            model.train(was_training)
        top1 = knn_accuracy(bank, bank_labels, queries, query_labels, self.k, self.temperature)
        runner.visualizer.add_scalars({'knn/top1': top1}, step=step)
        runner.logger.info(f'kNN top-1 ({self.k}-NN, {len(query_labels)} images): '
                           f'{top1:.2f}%')
        self.last_top1, self._last_step = top1, step
        return top1

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if (not self.by_epoch and runner.rank == 0
                and self.every_n_train_iters(runner, self.interval)):
            self.evaluate(runner, runner.iter + 1)

    def after_train_epoch(self, runner) -> None:
        if (self.by_epoch and runner.rank == 0 and self.every_n_epochs(runner, self.interval)):
            self.evaluate(runner, runner.iter)

    def after_train(self, runner) -> None:
        if runner.rank == 0 and self._last_step != runner.iter:
            self.evaluate(runner, runner.iter)


def balanced_subset(dataset, per_class: int, seed: int = 0) -> Subset:
    """At most ``per_class`` images of every class of a labeled mmengine dataset, drawn with
    ``seed``, in dataset order."""
    by_class = defaultdict(list)
    for index in range(len(dataset)):
        by_class[int(dataset.get_data_info(index)['gt_label'])].append(index)
    rng = random.Random(seed)
    chosen = [
        i for label in sorted(by_class)
        for i in rng.sample(by_class[label], min(per_class, len(by_class[label])))
    ]
    return Subset(dataset, sorted(chosen))
