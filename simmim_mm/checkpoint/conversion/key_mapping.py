"""Rename a state dict by ordered regex rules, and check it against a model: the two steps
every conversion shares. Every source key must match a rule (an unknown key is an error, not
silently dropped), so a layout we do not understand never produces a half-converted file."""
import re
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from torch import Tensor

from ..errors import CheckpointError

# (regex matched against the whole key, replacement template or None to drop the key)
Rule = Tuple[str, Optional[str]]

# Buffers that every Swin / BEiT model recomputes from its window size: never converted.
DERIVED_BUFFERS = r'(.*\.)?(relative_position_index|attn_mask)'


def preview(keys: Iterable[str], limit: int = 8) -> str:
    """The first few keys, for error messages on checkpoints with hundreds of them."""
    keys = sorted(keys)
    head = ', '.join(keys[:limit])
    return head + (f', ... ({len(keys) - limit} more)' if len(keys) > limit else '')


def first_rule(key: str, rules: Sequence[Rule]) -> Tuple[Optional[re.Match], Optional[str]]:
    """The match of the first rule whose pattern matches the whole ``key``, and that rule's
    replacement; (None, None) when none does."""
    for pattern, replacement in rules:
        match = re.fullmatch(pattern, key)
        if match:
            return match, replacement
    return None, None


def rename_keys(state_dict: Dict[str, Tensor], rules: Sequence[Rule],
                what: str) -> Dict[str, Tensor]:
    """Apply the first matching rule to each key; refuse unknown keys and collisions."""
    out, unknown, sources = {}, [], {}
    for key, value in state_dict.items():
        match, replacement = first_rule(key, rules)
        if match is None:
            unknown.append(key)
            continue
        if replacement is None:
            continue
        new_key = match.expand(replacement)
        if new_key in out:
            raise CheckpointError(f'{what}: keys {sources[new_key]!r} and {key!r} both map '
                                  f'to {new_key!r}')
        out[new_key], sources[new_key] = value, key
    if unknown:
        raise CheckpointError(f'{what}: {len(unknown)} key(s) of an unknown layout: '
                              f'{preview(unknown)}')
    return out


def strip_prefix(state_dict: Dict[str, Tensor], prefix: str) -> Dict[str, Tensor]:
    return {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in state_dict.items()}


def _table_hint(key: str, got: tuple, want: tuple) -> str:
    """Relative position tables have (2w-1)^2 rows: say which windows disagree."""
    if not key.endswith('relative_position_bias_table') or len(got) != 2 or len(want) != 2:
        return ''
    windows = [(int(round(rows**0.5)) + 1) // 2 for rows in (got[0], want[0])]
    return f' (window {windows[0]} in the checkpoint, {windows[1]} in the model)'


def mismatches(state_dict: Dict[str, Tensor], reference: Dict[str, tuple]) -> List[str]:
    """Missing, unexpected and wrongly shaped keys against ``reference`` (key -> shape);
    derived buffers (relative_position_index, attn_mask) are not expected."""
    expected = {k: s for k, s in reference.items() if not re.fullmatch(DERIVED_BUFFERS, k)}
    problems = []
    missing = set(expected) - set(state_dict)
    extra = set(state_dict) - set(expected)
    if missing:
        problems.append(f'missing {len(missing)} key(s): {preview(missing)}')
    if extra:
        problems.append(f'unexpected {len(extra)} key(s): {preview(extra)}')
    for key in sorted(set(expected) & set(state_dict)):
        got, want = tuple(state_dict[key].shape), tuple(expected[key])
        if got != want:
            problems.append(f'{key}: shape {got} in the checkpoint, {want} in the model' +
                            _table_hint(key, got, want))
    return problems


def check_against(state_dict: Dict[str, Tensor], reference: Dict[str, tuple], what: str) -> None:
    problems = mismatches(state_dict, reference)
    if problems:
        raise CheckpointError(f'{what}:\n  ' + '\n  '.join(problems))
