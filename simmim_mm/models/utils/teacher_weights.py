"""Load a distillation teacher's encoder from a SimMIM checkpoint in any form the package
reads: ours (``state_dict`` with ``backbone.*``, and any file tools/convert_checkpoint.py
wrote), an official / Hugging Face / mmpretrain file converted on the fly, or a model-zoo
name (downloaded and converted into the cache). The existing pieces do the work:
:data:`simmim_mm.checkpoint.SOURCES` converts, :func:`download_model` fetches, and
:class:`SimMIMPretrainedInit` loads strictly, naming any weight that does not fit."""
import os.path as osp
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

    def _encoder(self) -> Dict[str, Tensor]:
        encoder = {
            k[len(self.prefix):]: v
            for k, v in self._state_dict.items() if k.startswith(self.prefix)
        }
        if not encoder:
            raise KeyError(f'{self.checkpoint}: converted, but no "{self.prefix}*" weights')
        return encoder


def resolve_checkpoint(checkpoint: str) -> str:
    """A local file or URL as is; anything else is a model-zoo name (configs/metafile.yml),
    returned as the path of its conversion in the cache, downloaded first if needed."""
    if osp.isfile(checkpoint) or '://' in checkpoint:
        return checkpoint
    from simmim_mm.checkpoint.model_zoo import download_model, get_model
    try:
        model = get_model(checkpoint)
    except KeyError as error:
        raise FileNotFoundError(f'model.teacher_checkpoint={checkpoint!r} is neither a file '
                                f'nor a model-zoo name: {error.args[0]}') from None
    source = (model.get('Metadata') or {}).get('Source Format')
    return download_model(checkpoint, convert=source not in (None, 'none'))


def load_teacher_weights(encoder: nn.Module, checkpoint: str, source: Optional[str] = None) -> None:
    """Load ``checkpoint`` into ``encoder``. ``source`` names the format of a file that was
    not converted yet: 'official', 'hf' or 'mmpretrain' (tools/convert_checkpoint.py
    ``--from``); None for ours, converted files and zoo names."""
    if source is None:
        init = SimMIMPretrainedInit(
            resolve_checkpoint(checkpoint), allow_missing=_UNUSED_BY_TEACHER)
    else:
        from simmim_mm.checkpoint import SOURCES, load_checkpoint_file
        if source not in SOURCES:
            raise ValueError(f'model.teacher_source={source!r}: one of {sorted(SOURCES)}, or '
                             'None for a simmim_mm checkpoint')
        state = SOURCES[source](load_checkpoint_file(checkpoint), checkpoint)
        init = _ConvertedWeightsInit(state, checkpoint=checkpoint, allow_missing=_UNUSED_BY_TEACHER)
    init(encoder)
