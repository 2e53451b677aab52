import copy

from mmengine.dataset import DefaultSampler
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop

from simmim_mm.compat.mmengine import diff_rank_seed, run_epochs
from simmim_mm.datasets.samplers import ResumableSampler, SeededSampleDataset
from simmim_mm.datasets.shards import WebDatasetShards
from simmim_mm.engine.rng_state import get_rng_state, set_rng_state
from simmim_mm.engine.worker_signals import shield_workers_from_stop_signals
from simmim_mm.registry import DATA_SAMPLERS, LOOPS

# what a folder dataset's config holds and shards do not need
FOLDER_KEYS = ('type', 'data_root', 'data_prefix', 'with_label', 'ann_file', 'extensions')


def shard_dataloader_cfg(dataloader: dict, seed: int) -> dict:
    """The dataloader config that streams the shards named by ``dataset.shards``: the folder
    dataset (the recipes' CustomDataset) becomes a WebDatasetShards with the same pipeline,
    split for the DataLoader's batch size and workers; no sampler (the dataset shuffles).
    ``dataset.shard_index`` is the shards' index.json where it is not beside them."""
    dataset = dict(dataloader['dataset'])
    if dataset.get('type') not in ('WebDatasetShards', WebDatasetShards):
        ignored = [key for key in FOLDER_KEYS[1:] if key in dataset]
        dataset = {key: value for key, value in dataset.items() if key not in FOLDER_KEYS}
        if 'shard_index' in dataset:
            dataset['index'] = dataset.pop('shard_index')
        if ignored:
            print_log(
                f'Reading shards {dataset["shards"]}: the folder settings {ignored} of '
                f'train_dataloader.dataset are not used',
                logger='current')
    dataset.update(
        type=WebDatasetShards,
        batch_size=dataloader['batch_size'],
        num_workers=dataloader.get('num_workers', 0))
    dataset.setdefault('seed', seed)
    return dict(dataloader, sampler=None, dataset=dataset)


def check_shards_are_streamed(dataloader) -> None:
    """Raise if a dataloader config names ``shards`` that no loop streams: a runner builds
    the train dataloader itself where the loop is not ResumableEpochBasedTrainLoop, and
    CustomDataset would fail with an unexpected keyword."""
    dataset = dataloader.get('dataset') if isinstance(dataloader, dict) else None
    if isinstance(dataset,
                  dict) and 'shards' in dataset and dataset.get('type') not in ('WebDatasetShards',
                                                                                WebDatasetShards):
        raise ValueError('train_dataloader.dataset.shards: shards are streamed by train_cfg '
                         "type='ResumableEpochBasedTrainLoop' (every pretraining and distillation "
                         'recipe); this config trains with another loop or names shards elsewhere')


def resumable_dataloader_cfg(dataloader: dict, seed: int = 0) -> dict:
    """The dataloader config with MMEngine's DefaultSampler as a ResumableSampler (same order)
    and the dataset wrapped in a SeededSampleDataset; other samplers are left alone. A dataset
    that names ``shards`` streams them (see :func:`shard_dataloader_cfg`)."""
    dataset = dataloader['dataset']
    if isinstance(dataset, dict) and ('shards' in dataset or dataset.get('type')
                                      in ('WebDatasetShards', WebDatasetShards)):
        return shard_dataloader_cfg(dataloader, seed)
    sampler = dataloader.get('sampler') or {}
    sampler_type = sampler.get('type')
    if isinstance(sampler_type, str):
        sampler_type = DATA_SAMPLERS.get(sampler_type)
    if sampler_type is None or not issubclass(sampler_type, DefaultSampler):
        return dataloader  # DefaultSampler and its subclasses only
    dataloader = copy.copy(dataloader)
    if not issubclass(sampler_type, ResumableSampler):
        dataloader['sampler'] = dict(sampler, type=ResumableSampler)
    dataset = dataloader['dataset']
    if not (isinstance(dataset, SeededSampleDataset) or
            (isinstance(dataset, dict)
             and dataset.get('type') in ('SeededSampleDataset', SeededSampleDataset))):
        dataloader['dataset'] = dict(type=SeededSampleDataset, dataset=dataset)
    return dataloader


@LOOPS.register_module()
class ResumableEpochBasedTrainLoop(EpochBasedTrainLoop):
    """MMEngine's EpochBasedTrainLoop (same arguments, epochs and learning-rate curve) that
    resumes from a mid-epoch checkpoint at the next batch of that epoch, with the same data
    and augmentation as a run that never stopped.

    MMEngine's loop restarts a resumed epoch from its first batch, while the iteration count
    and the per-iteration schedules go on: batches are trained twice and the epoch runs past
    its end. Here the DefaultSampler becomes a :class:`ResumableSampler` (the same order),
    which starts the resumed epoch after the batches already trained, and the dataset a
    :class:`SeededSampleDataset`, so each sample's crop, flip and mask depend on the sample
    and epoch only, not on which worker drew them. Nothing is loaded to skip batches. Other
    samplers are replayed, batch by batch, as MMEngine's IterBasedTrainLoop does. Shards
    (``train_dataloader.dataset.shards``) stream in a seeded order that the loop starts at the
    resumed batch (see WebDatasetShards). ``stop_training`` (ResumePointHook on SIGTERM) also
    ends an epoch early.
    """

    resumes_mid_epoch = True  # what ResumePointHook checks

    def __init__(self, runner, dataloader, *args, **kwargs):
        if isinstance(dataloader, dict):
            dataloader = resumable_dataloader_cfg(dataloader, runner.seed)
        super().__init__(runner, dataloader, *args, **kwargs)
        shield_workers_from_stop_signals(self.dataloader)  # also under FlexibleRunner

    def run(self):
        sampler = self.dataloader.sampler
        if isinstance(sampler, ResumableSampler) and not diff_rank_seed(self.runner):
            # resume() restored the run's seed after the sampler was built with a new one
            sampler.seed = self.runner.seed
        if isinstance(self.dataloader.dataset, WebDatasetShards):
            self.dataloader.dataset.seed = self.runner.seed
            self._match_shard_layout(self.dataloader.dataset)
        return run_epochs(self)  # MMEngine's run, ending at an epoch stopped mid-way

    def run_epoch(self) -> None:
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        done = self._iter - self._epoch * len(self.dataloader)  # batches trained already
        if isinstance(self.dataloader.dataset, WebDatasetShards):
            self.dataloader.dataset.set_epoch(self._epoch, start_batch=max(done, 0))
        batches = self._batches_from(done)
        for idx, data_batch in enumerate(batches, start=done):
            self.run_iter(idx, data_batch)
            if self.stop_training:
                return  # stopped mid-epoch: the epoch is not over
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def _batches_from(self, done: int):
        if done <= 0:
            return self.dataloader
        sampler, batch_size = self.dataloader.sampler, self.dataloader.batch_size
        self.runner.logger.info(f'Resuming epoch {self._epoch + 1} at batch {done + 1} of '
                                f'{len(self.dataloader)}')
        # Starting the iterator draws its workers' base seed (and a replay with
        # num_workers=0 the augmentation) from the streams RngStateHook restored for the
        # model; the uninterrupted run drew those at the start of the epoch.
        state = get_rng_state()
        if isinstance(sampler, ResumableSampler) and batch_size is not None:
            sampler.start_epoch_at(done * batch_size)
            iterator = iter(self.dataloader)
        elif isinstance(self.dataloader.dataset, WebDatasetShards):
            iterator = iter(self.dataloader)  # set_epoch gave it the batch to start at
        else:
            self.runner.logger.warning(
                f'{type(sampler).__name__} cannot start mid-epoch: loading and dropping the '
                f'first {done} batches (DefaultSampler or ResumableSampler skip them)')
            iterator = iter(self.dataloader)
            for _ in range(done):
                next(iterator)
        set_rng_state(state)
        return iterator

    def _match_shard_layout(self, dataset: WebDatasetShards) -> None:
        """Record how the shards are split; a run resumed with another split (world size,
        workers, batch size) cannot continue the stopped epoch: it goes on at the next one."""
        hub = self.runner.message_hub
        saved, layout = hub.get_info('shard_layout'), dict(
            dataset.layout, batches=len(self.dataloader))
        hub.update_info('shard_layout', layout)
        if saved is None or saved == layout:
            return
        stopped_mid_epoch = self._iter > self._epoch * saved['batches']
        if stopped_mid_epoch:
            self._epoch += 1
        self.runner.logger.warning(
            f'The checkpoint read the shards with {saved}, this run with {layout}: ' +
            (f'the rest of epoch {self._epoch} cannot be split the same way and is left '
             f'out; ' if stopped_mid_epoch else '') +
            f'training continues at the start of epoch {self._epoch + 1}. The iteration '
            f'count restarts there for the new split; the parameter schedulers keep their '
            f'resumed step counts.')
        self._iter = self._epoch * len(self.dataloader)
