import logging
import re
from typing import Dict, Sequence

from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader, load_state_dict
from torch import Tensor, nn

from simmim_mm.registry import WEIGHT_INITIALIZERS

from .channel_adapt import average_output_channels, sum_input_channels
from .relative_position import resize_relative_position_bias_table

# pretraining-only tensors, and buffers every model rebuilds for its own window / grid
_NOT_TRANSFERRED = re.compile(
    r'(^|\.)(mask_token|relative_position_index|attn_mask|relative_coords_table)$')
_SHARED_TABLE = 'rel_pos_bias.relative_position_bias_table'
_PATCH_EMBED = 'patch_embed.projection.weight'


def _extra_rows(rows: int) -> int:
    """Rows past the (2w-1)^2 square: ViT's 3 cls-token biases, 0 for Swin."""
    return rows - int(rows**0.5)**2


def adapt_encoder_state(encoder: Dict[str, Tensor], target: nn.Module) -> Dict[str, Tensor]:
    """Make a SimMIM encoder's weights fit ``target`` (a classification / detection /
    segmentation backbone, or a SimMIM encoder): drop stale index buffers and the mask token
    (unless the target is itself a SimMIM encoder), copy ViT's shared relative position bias
    into each block, resize bias tables to the target's window, and sum an RGB patch
    embedding for a one-channel target (channel_adapt)."""
    wanted = target.state_dict()
    state = {k: v for k, v in encoder.items() if not _NOT_TRANSFERRED.search(k)}
    if _PATCH_EMBED in state and _PATCH_EMBED in wanted \
            and state[_PATCH_EMBED].shape[1] != wanted[_PATCH_EMBED].shape[1]:
        state[_PATCH_EMBED] = sum_input_channels(state[_PATCH_EMBED], wanted[_PATCH_EMBED].shape[1])
        print_log(
            'model.backbone.in_channels=1: the RGB patch embedding of the checkpoint is summed '
            'over its 3 input channels',
            logger='current')
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


def adapt_decoder_state(decoder: Dict[str, Tensor], target: nn.Module) -> Dict[str, Tensor]:
    """Average an RGB SimMIM decoder's output rows for a one-channel ``target`` decoder
    (channel_adapt); anything else as it is."""
    stride, channels = getattr(target, 'encoder_stride', 0), getattr(target, 'out_channels', 3)
    rows, wanted = stride**2, target.state_dict()
    adapted = {
        k: average_output_channels(v, rows, channels)
        for k, v in decoder.items()
        if channels != 3 and k in wanted and (len(v), len(wanted[k])) == (3 * rows, channels * rows)
    }
    if adapted:
        print_log(
            'model.backbone.in_channels=1: the RGB decoder rows of the checkpoint are averaged '
            'into one output channel',
            logger='current')
    return {**decoder, **adapted}


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

    def _checkpoint_state(self) -> Dict[str, Tensor]:
        from simmim_mm.checkpoint.model_zoo import resolve_checkpoint
        ckpt = CheckpointLoader.load_checkpoint(
            resolve_checkpoint(self.checkpoint), self.map_location,
            logger=None)  # as load_checkpoint does
        state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
        if not isinstance(state, dict):
            raise ValueError(f'{self.checkpoint}: not a checkpoint with a state_dict')
        return state

    def _encoder(self, state: Dict[str, Tensor]) -> Dict[str, Tensor]:
        encoder = {k[len(self.prefix):]: v for k, v in state.items() if k.startswith(self.prefix)}
        if not encoder:
            raise KeyError(f'{self.checkpoint} has no "{self.prefix}*" weights; it starts with '
                           f'{sorted(state)[:5]}. Convert official / Hugging Face checkpoints '
                           'first (tools/convert_checkpoint.py).')
        return {k: v for k, v in encoder.items() if not any(p.search(k) for p in self.ignore_keys)}

    def __call__(self, module: nn.Module) -> None:
        state = self._checkpoint_state()
        if isinstance(module, BaseModel):  # the whole model: continued pretraining
            self._load_encoder(module.backbone, self._encoder(state))
            self._load_decoder(module, state)
        else:
            self._load_encoder(module, self._encoder(state))

    def _load_decoder(self, model: nn.Module, state: Dict[str, Tensor]) -> None:
        neck = getattr(model, 'neck', None)
        wanted = neck.state_dict() if neck is not None else {}
        if not wanted:
            return
        decoder = {k[len('neck.'):]: v for k, v in state.items() if k.startswith('neck.')}
        decoder = adapt_decoder_state(decoder, neck)
        if decoder.keys() == wanted.keys() and all(v.shape == wanted[k].shape
                                                   for k, v in decoder.items()):
            load_state_dict(neck, decoder, strict=True, logger='current')
            print_log(
                f'Kept the decoder of {self.checkpoint}: {len(decoder)} tensors into '
                f'{type(neck).__name__}',
                logger='current')
            return
        shapes = {k: tuple(v.shape) for k, v in decoder.items()}
        print_log(
            f'model.neck ({type(neck).__name__}) is newly initialised: {self.checkpoint} has '
            f'{shapes or "no neck.* weights"} for its '
            f'{ {k: tuple(v.shape) for k, v in wanted.items()} }',
            logger='current',
            level=logging.WARNING)

    def _load_encoder(self, module: nn.Module, encoder: Dict[str, Tensor]) -> None:
        state = adapt_encoder_state(encoder, module)
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
        rebuilt = {k: v for k, v in module.state_dict().items() if _NOT_TRANSFERRED.search(k)}
        load_state_dict(module, {**rebuilt, **state}, strict=False, logger='current')
        new = sorted(set(wanted) - set(state))
        print_log(
            f'Loaded {len(state)} SimMIM encoder tensors from {self.checkpoint} into '
            f'{type(module).__name__}' + (f'; newly initialised: {new}' if new else ''),
            logger='current')

    def _get_init_info(self) -> str:
        return f'{self.__class__.__name__}: load from {self.checkpoint}'
