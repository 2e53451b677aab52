"""Load a distillation teacher's encoder from a SimMIM checkpoint in any form the package
reads: ours (``state_dict`` with ``backbone.*``, and any file tools/convert_checkpoint.py
wrote), an official / Hugging Face / mmpretrain file converted on the fly, or a model-zoo
name (downloaded and converted into the cache). The existing pieces do the work:
:data:`simmim_mm.checkpoint.SOURCES` converts, :func:`download_model` fetches, and
:class:`SimMIMPretrainedInit` loads strictly, naming any weight that does not fit."""
from typing import Dict, Optional

from torch import Tensor, nn

from .transfer_init import SimMIMPretrainedInit

# The teacher sees full images: a checkpoint without a mask token (a fine-tuned encoder)
# serves as well.
_UNUSED_BY_TEACHER = [r'^mask_token$']


class _ConvertedWeightsInit(SimMIMPretrainedInit):
    """SimMIMPretrainedInit over weights already converted in memory."""

    def __init__(self, state_dict: Dict[str, Tensor], **kwargs):
        super().__init__(**kwargs)
        self._state_dict = state_dict

    def _checkpoint_state(self) -> Dict[str, Tensor]:
        return self._state_dict


def load_teacher_weights(encoder: nn.Module, checkpoint: str, source: Optional[str] = None) -> None:
    """Load ``checkpoint`` into ``encoder``. ``source`` names the format of a file that was
    not converted yet: 'official', 'hf' or 'mmpretrain' (tools/convert_checkpoint.py
    ``--from``); None for ours, converted files and zoo names."""
    if source is None:
        from simmim_mm.checkpoint.model_zoo import resolve_checkpoint
        init = SimMIMPretrainedInit(
            resolve_checkpoint(checkpoint, 'model.teacher_checkpoint'),
            allow_missing=_UNUSED_BY_TEACHER)
    else:
        from simmim_mm.checkpoint import SOURCES, load_checkpoint_file
        if source not in SOURCES:
            raise ValueError(f'model.teacher_source={source!r}: one of {sorted(SOURCES)}, or '
                             'None for a simmim_mm checkpoint')
        state = SOURCES[source](load_checkpoint_file(checkpoint), checkpoint)
        init = _ConvertedWeightsInit(state, checkpoint=checkpoint, allow_missing=_UNUSED_BY_TEACHER)
    init(encoder)
