"""What ``tools/model_zoo.py`` prints about the metafile's models: README's model-zoo table
and one model's details."""
import os.path as osp
from typing import Dict, List, Optional

from .fetch import file_name


def top1(model: dict) -> Optional[float]:
    """The best reported fine-tuning top-1 of a model."""
    scores = [r.get('Metrics', {}).get('Top 1 Accuracy') for r in model.get('Results') or []]
    scores = [s for s in scores if s is not None]
    return max(scores) if scores else None


def results_text(model: dict) -> str:
    """Every reported top-1 with its fine-tuning setting, e.g. ``82.8 (192px w6)``."""
    parts = []
    for result in model.get('Results') or []:
        score = result.get('Metrics', {}).get('Top 1 Accuracy')
        if score is not None:
            setting = result.get('Fine-tune')
            parts.append(f'{score} ({setting})' if setting else str(score))
    return ', '.join(parts) or '-'


def readme_table(models: List[dict]) -> str:
    """README's model-zoo table, one row per metafile model."""
    rows = [
        '| name | architecture | pretrain epochs | published by | fine-tune top-1 | config '
        '| download |', '|---|---|---|---|---|---|---|'
    ]
    for m in models:
        meta = m.get('Metadata') or {}
        config = m.get('Config')
        config = f'[{osp.basename(config)}]({config})' if config and '::' not in config \
            else (f'`{config}`' if config else '-')
        rows.append(f'| {m["Name"]} | {meta.get("Architecture", "")} | '
                    f'{meta.get("Epochs", "-")} | {meta.get("Publisher", "")} | '
                    f'{results_text(m)} | {config} | [weights]({m["Weights"]}) |')
    return '\n'.join(rows) + '\n'


def describe(model: dict) -> Dict[str, object]:
    """The fields ``tools/model_zoo.py info`` prints."""
    meta = model.get('Metadata') or {}
    return {
        'name': model['Name'],
        'architecture': meta.get('Architecture'),
        'image size': meta.get('Image Size'),
        'epochs': meta.get('Epochs'),
        'publisher': meta.get('Publisher'),
        'source format': meta.get('Source Format'),
        'config': model.get('Config'),
        'fine-tune top-1': results_text(model),
        'url': model['Weights'],
        'file': file_name(model),
        'size': meta.get('File Size'),
        'sha256': meta.get('SHA256'),
        'note': meta.get('Note')
    }
