"""A kNN probe of a fine-tuning config's frozen encoder: how far the pretrained features alone
separate the classes, before any fine-tuning (and, with no checkpoint, how far random ones do).

The encoder is the config's backbone initialised as fine-tuning initialises it (its
``model.backbone.init_cfg``, simmim_mm's strict ``Pretrained``), the images are the config's
training and test lists, both through the TEST pipeline (no augmentation), and each test image
is classified by a weighted vote of its nearest training images (simmim_mm.evaluation.knn).
"""
import copy
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.registry import init_default_scope
from mmengine.runner import set_random_seed
from torch import Tensor, nn
from torch.utils.data import DataLoader

from simmim_mm.registry import DATASETS, MODELS

from .knn import embed_dataset, knn_classify


class FrozenEncoder(nn.Module):
    """A classifier's data preprocessor and backbone, without its neck and head: what
    ``embed_dataset`` reads (the backbone's last map or tokens, pooled there)."""

    def __init__(self, data_preprocessor: nn.Module, backbone: nn.Module):
        super().__init__()
        self.data_preprocessor = data_preprocessor
        self.backbone = backbone

    def extract_feat(self, inputs: Tensor) -> Tensor:
        features = self.backbone(inputs)[-1]
        # a backbone that pools itself (a ViT's avg_featmap or cls_token: (B, C)) gives the
        # vector its head reads; as a 1 x 1 map, pooled_features keeps it as it is
        return features[:, :, None, None] if features.dim() == 2 else features


def load_config(config: Union[str, Config], cfg_options: Optional[dict] = None) -> Config:
    cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def build_frozen_encoder(cfg: Config, checkpoint: Optional[str] = None) -> FrozenEncoder:
    """The config's classifier built under ``cfg.randomness.seed`` (0 if unset) and
    initialised by ``init_weights()`` as a training run does, reduced to a FrozenEncoder in
    eval mode. ``checkpoint`` replaces ``model.backbone.init_cfg.checkpoint``; without it the
    config's own checkpoint is loaded, and if it names none the backbone keeps its random
    init (the from-scratch baseline)."""
    model_cfg = copy.deepcopy(cfg.model)
    if cfg.get('data_preprocessor') is not None:  # the top-level one, as the Runner merges it
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    init_cfg = model_cfg.backbone.get('init_cfg')
    if checkpoint is not None:
        if not isinstance(init_cfg, dict) or init_cfg.get('type') != 'Pretrained':
            raise ValueError(
                f'--checkpoint {checkpoint}: the config\'s model.backbone.init_cfg is '
                f'{init_cfg!r}, not a Pretrained init that loads it; give the fine-tuning '
                'config that loads the SimMIM checkpoint')
        init_cfg['checkpoint'] = checkpoint
    elif isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained' \
            and not init_cfg.get('checkpoint'):
        model_cfg.backbone.init_cfg = None  # no checkpoint anywhere: random init
    init_default_scope(cfg.get('default_scope', 'simmim_mm'))
    set_random_seed((cfg.get('randomness') or {}).get('seed') or 0)
    model = MODELS.build(model_cfg)
    model.init_weights()
    return FrozenEncoder(model.data_preprocessor, model.backbone).eval()


def probe_loaders(cfg: Config) -> Dict[str, DataLoader]:
    """Loaders of the config's training and test lists, both with the test pipeline, in file
    order, at the test loader's batch size and workers."""
    test = cfg.test_dataloader
    loaders = {}
    for split in ('train', 'test'):
        dataset_cfg = copy.deepcopy(cfg.get(f'{split}_dataloader', {}).get('dataset'))
        if not isinstance(dataset_cfg, dict) or 'pipeline' not in dataset_cfg:
            raise ValueError(f'{split}_dataloader.dataset: the probe needs a dataset with a '
                             f'pipeline (not a dataset wrapper), got {dataset_cfg!r}')
        dataset_cfg['pipeline'] = copy.deepcopy(test.dataset.pipeline)
        dataset = DATASETS.build(dataset_cfg)
        if len(dataset) == 0:
            raise ValueError(f'{split}_dataloader.dataset is empty')
        loaders[split] = DataLoader(
            dataset,
            batch_size=test.get('batch_size', 32),
            shuffle=False,
            num_workers=test.get('num_workers', 0),
            collate_fn=default_collate)
    return loaders


def knn_metrics(bank: Tensor,
                bank_labels: Tensor,
                queries: Tensor,
                query_labels: Tensor,
                ks: Sequence[int] = (10, 20),
                temperature: float = 0.07,
                classes: Optional[Sequence[str]] = None) -> Dict[str, float]:
    """``knn<k>/top1`` and ``knn<k>/recall/<class>`` (percent) for each k; a class without
    test images has no recall."""
    num_classes = int(max(bank_labels.max(), query_labels.max())) + 1
    names = list(classes) if classes else [str(c) for c in range(num_classes)]
    metrics = {}
    for k in ks:
        predicted = knn_classify(bank, bank_labels, queries, k, temperature)
        correct = predicted == query_labels
        metrics[f'knn{k}/top1'] = correct.float().mean().item() * 100
        for label, name in enumerate(names):
            mine = query_labels == label
            if mine.any():
                metrics[f'knn{k}/recall/{name}'] = correct[mine].float().mean().item() * 100
    return metrics


@torch.no_grad()
def knn_probe(config: Union[str, Config],
              checkpoint: Optional[str] = None,
              ks: Sequence[int] = (10, 20),
              temperature: float = 0.07,
              cfg_options: Optional[dict] = None) -> dict:
    """kNN top-1 and per-class recall of the config's test list against its training list,
    on the frozen encoder of ``build_frozen_encoder`` (fp32, on the CPU). Returns the metrics
    with what they were measured on."""
    if not ks or min(ks) < 1:
        raise ValueError(f'ks: give k >= 1, got {list(ks)}')
    cfg = load_config(config, cfg_options)
    encoder = build_frozen_encoder(cfg, checkpoint).float().cpu()
    loaders = probe_loaders(cfg)
    bank, bank_labels = embed_dataset(encoder, loaders['train'])
    queries, query_labels = embed_dataset(encoder, loaders['test'])
    classes: List[str] = list(loaders['test'].dataset.metainfo.get('classes') or [])
    init_cfg = cfg.model.backbone.get('init_cfg') or {}
    loaded = checkpoint or (init_cfg.get('checkpoint') if isinstance(init_cfg, dict) else None)
    return dict(
        config=config if isinstance(config, str) else cfg.filename,
        checkpoint=loaded,
        init='checkpoint' if loaded else 'random',
        seed=(cfg.get('randomness') or {}).get('seed') or 0,
        ks=list(ks),
        temperature=temperature,
        train_images=len(bank_labels),
        test_images=len(query_labels),
        feature_dim=bank.shape[1],
        classes=classes,
        metrics=knn_metrics(bank, bank_labels, queries, query_labels, ks, temperature, classes))
