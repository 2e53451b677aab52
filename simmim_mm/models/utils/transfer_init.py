import re
from typing import Dict, Sequence

from mmengine.logging import print_log
from mmengine.runner import CheckpointLoader, load_state_dict
from torch import Tensor, nn

from simmim_mm.registry import WEIGHT_INITIALIZERS

from .relative_position import resize_relative_position_bias_table

# pretraining-only tensors, and buffers every model rebuilds for its own window / grid
_NOT_TRANSFERRED = re.compile(
    r'(^|\.)(mask_token|relative_position_index|attn_mask|relative_coords_table)$')
_SHARED_TABLE = 'rel_pos_bias.relative_position_bias_table'


def _extra_rows(rows: int) -> int:
    """Rows past the (2w-1)^2 square: ViT's 3 cls-token biases, 0 for Swin."""
    return rows - int(rows**0.5)**2


def adapt_encoder_state(encoder: Dict[str, Tensor], target: nn.Module) -> Dict[str, Tensor]:
    """Make a SimMIM encoder's weights fit ``target`` (a classification / detection /
    segmentation backbone): drop stale index buffers and the mask token (unless the target is
    itself a SimMIM encoder), copy ViT's shared relative position bias into each block, and
    resize bias tables to the target's window."""
    wanted = target.state_dict()
    state = {k: v for k, v in encoder.items() if not _NOT_TRANSFERRED.search(k)}
    if 'mask_token' in encoder and 'mask_token' in wanted:  # into a SimMIM encoder: keep it
        state['mask_token'] = encoder['mask_token']
    if _SHARED_TABLE in state and _SHARED_TABLE not in wanted:
        shared = state.pop(_SHARED_TABLE)
        for key in wanted:
            if key.endswith('attn.relative_position_bias_table'):
                state[key] = shared.clone()
    for key, value in state.items():
        if key.endswith('relative_position_bias_table') and key in wanted \
                and value.shape[0] != wanted[key].shape[0]:
            state[key] = resize_relative_position_bias_table(value, wanted[key].shape[0],
                                                             _extra_rows(value.shape[0]))
    return state


@WEIGHT_INITIALIZERS.register_module(name='Pretrained')
class SimMIMPretrainedInit:
    """Load a SimMIM pretraining checkpoint into a downstream backbone, or fail loudly.

    Registered as ``Pretrained`` in the simmim_mm scope so that MMEngine runs it after the
    children's own init (it only defers initializers of that name); select it from any scope
    with ``init_cfg=dict(type='Pretrained', _scope_='simmim_mm', checkpoint=...)``.

    Unlike MMEngine's Pretrained (``strict=False``, warnings only), a weight of the encoder
    that does not fit the backbone, or a backbone parameter the checkpoint lacks, is an error
    that names them, instead of fine-tuning from random weights. ``allow_missing`` /
    ``ignore_keys`` are regexes for the expected differences (new output norms of a detection
    backbone; ViT's final norm, replaced by fc_norm under mean pooling).
    """

    def __init__(self,
                 checkpoint: str,
                 prefix: str = 'backbone.',
                 map_location: str = 'cpu',
                 allow_missing: Sequence[str] = (),
                 ignore_keys: Sequence[str] = ()):
        self.checkpoint = checkpoint
        self.prefix = prefix
        self.map_location = map_location
        self.allow_missing = [re.compile(p) for p in allow_missing]
        self.ignore_keys = [re.compile(p) for p in ignore_keys]

    def _encoder(self) -> Dict[str, Tensor]:
        ckpt = CheckpointLoader.load_checkpoint(
            self.checkpoint, self.map_location, logger=None)  # as load_checkpoint does
        state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
        if not isinstance(state, dict):
            raise ValueError(f'{self.checkpoint}: not a checkpoint with a state_dict')
        encoder = {k[len(self.prefix):]: v for k, v in state.items() if k.startswith(self.prefix)}
        if not encoder:
            raise KeyError(f'{self.checkpoint} has no "{self.prefix}*" weights; it starts with '
                           f'{sorted(state)[:5]}. Convert official / Hugging Face checkpoints '
                           'first (tools/convert_checkpoint.py).')
        return {k: v for k, v in encoder.items() if not any(p.search(k) for p in self.ignore_keys)}

    def __call__(self, module: nn.Module) -> None:
        state = adapt_encoder_state(self._encoder(), module)
        wanted = dict(module.named_parameters())
        wanted.update({
            k: v
            for k, v in module.state_dict().items()
            if k not in wanted and not _NOT_TRANSFERRED.search(k)
        })  # buffers the model keeps as is
        unused = sorted(set(state) - set(wanted))
        mismatched = sorted(
            k for k in set(state) & set(wanted) if state[k].shape != wanted[k].shape)
        missing = sorted(
            k for k in set(wanted) - set(state) if not any(p.search(k) for p in self.allow_missing))
        problems = [
            f'{name}: {keys}'
            for name, keys in (('checkpoint weights the backbone has no place for', unused), (
                'shape mismatches',
                [f'{k} {tuple(state[k].shape)} vs {tuple(wanted[k].shape)}'
                 for k in mismatched]), ('backbone weights missing from the checkpoint', missing))
            if keys
        ]
        if problems:
            raise ValueError(f'Loading {self.checkpoint} into {type(module).__name__} would '
                             'leave weights untrained or unused:\n  ' + '\n  '.join(problems))
        load_state_dict(module, state, strict=False, logger='current')
        new = sorted(set(wanted) - set(state))
        print_log(
            f'Loaded {len(state)} SimMIM encoder tensors from {self.checkpoint} into '
            f'{type(module).__name__}' + (f'; newly initialised: {new}' if new else ''),
            logger='current')

    def _get_init_info(self) -> str:
        return f'{self.__class__.__name__}: load from {self.checkpoint}'
