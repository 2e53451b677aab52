from typing import Dict, List, Optional, Union

import torch
from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from simmim_mm.registry import MODELS

from ..utils.attention_blocks import attention_blocks, qkv_at_block
from ..utils.teacher_weights import load_teacher_weights
from .distill_pairing import check_feature_pairing, check_full_forward, check_relation_pairing
from .simmim import check_windows_tile, encoder_in_channels, encoder_width

TARGETS = {'relations': 'RelationDistillLoss', 'features': 'FeatureDistillLoss'}


def feature_map(encoder: nn.Module, output: Tensor, images: Tensor) -> Tensor:
    """An encoder's last output as a (B, C, H, W) map: a ViT's raw tokens lose their cls
    token and take the patch grid of ``images``; maps pass through."""
    if output.dim() == 4:
        return output
    stride = encoder.patch_embed.projection.stride
    grid = (images.shape[-2] // stride[0], images.shape[-1] // stride[1])
    tokens = output[:, getattr(encoder, 'num_extra_tokens', 0):]
    return tokens.transpose(1, 2).reshape(output.shape[0], -1, *grid)


def _drop_teacher(module, state_dict, prefix, local_metadata) -> None:
    """state_dict post-hook: checkpoints hold the student, not the frozen teacher."""
    for key in [k for k in state_dict if k.startswith(prefix + 'teacher.')]:
        del state_dict[key]


def _keep_teacher(module, state_dict, prefix, *args) -> None:
    """load_state_dict pre-hook: a checkpoint without the teacher (all of ours) leaves the
    teacher loaded from teacher_checkpoint as it is, even under strict loading."""
    for key, value in module.teacher.state_dict().items():
        state_dict.setdefault(f'{prefix}teacher.{key}', value)


@MODELS.register_module()
class MIMDistiller(BaseSelfSupervisor):
    """Distil a frozen MIM-pretrained encoder (``teacher``) into a small one (``backbone``),
    trained like SimMIM by tools/train.py; the student is saved as ``backbone.*``, so its
    checkpoint fine-tunes with the same configs as a SimMIM checkpoint.

    Targets:
        'relations': TinyMIM (Ren et al., CVPR 2023). The Q-K and V-V relations of the
            teacher's block ``teacher_block`` (default the last) teach those of the student's
            last block, whose forward stops there. ViT: over all tokens, cls included, as
            TinyMIM; Swin: within each non-shifted window of the block's map. Relations are
            taken without position bias, as TinyMIM's ViTs have none.
        'features': FD (Wei et al. 2022). A 1x1 conv (``projector``) maps the student's final
            feature map to the teacher's width to regress the teacher's whitened final map.

    Both see the full image, as both papers. With ``neck`` (a SimMIMDecoder) and ``head`` (a
    SimMIMReconstructionHead) the student instead sees the SimMIM-masked image (masks from
    the pipeline's SimMIMMaskGenerator) and the pixel loss is added; the teacher still sees
    the full image.

    The teacher comes from ``teacher_checkpoint``: a simmim_mm checkpoint, a converted file, a
    model-zoo name, or a raw official / hf / mmpretrain file with ``teacher_source``; or,
    without it, from ``teacher.init_cfg``. It is loaded in :meth:`init_weights`, stays in
    eval mode with no gradients, and is neither optimised (see
    DistillerOptimWrapperConstructor) nor saved.
    """

    def __init__(self,
                 backbone: Union[dict, nn.Module],
                 teacher: Union[dict, nn.Module],
                 teacher_checkpoint: Optional[str] = None,
                 teacher_source: Optional[str] = None,
                 target: str = 'relations',
                 teacher_block: int = -1,
                 distill_loss: Optional[dict] = None,
                 neck: Optional[dict] = None,
                 head: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if target not in TARGETS:
            raise ValueError(f'model.target={target!r}: one of {sorted(TARGETS)}')
        if (neck is None) != (head is None):
            raise ValueError('model.neck and model.head: give both (masked student with the '
                             'SimMIM pixel loss) or neither (full images)')
        backbone = MODELS.build(backbone) if isinstance(backbone, dict) else backbone
        teacher = MODELS.build(teacher) if isinstance(teacher, dict) else teacher
        check_windows_tile(backbone)
        if target == 'relations':
            check_relation_pairing(teacher, teacher_block, backbone)
        else:
            check_feature_pairing(teacher, backbone)
            check_full_forward(backbone, 'target="features"')
        if isinstance(neck, dict):
            check_full_forward(backbone, 'the pixel loss (model.neck)')
            neck = dict(neck)
            neck.setdefault('in_channels', encoder_width(backbone))
            neck.setdefault('out_channels', encoder_in_channels(backbone))
        super().__init__(
            backbone=backbone,
            neck=neck,
            head=head,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.teacher = teacher.requires_grad_(False)
        self.teacher.eval()  # mmpretrain backbones' train() returns None: no chaining
        self.teacher_checkpoint = teacher_checkpoint
        self.teacher_source = teacher_source
        self.target = target
        self.teacher_block = teacher_block
        self.distill_loss = MODELS.build(distill_loss or dict(type=TARGETS[target]))
        if target == 'features':
            self.projector = nn.Conv2d(encoder_width(backbone), encoder_width(teacher), 1)
        self.register_state_dict_post_hook(_drop_teacher)
        self.register_load_state_dict_pre_hook(_keep_teacher)

    def init_weights(self) -> None:
        teacher_init = self.teacher.init_cfg if isinstance(self.teacher.init_cfg, dict) else {}
        if self.teacher_checkpoint is None and teacher_init.get('type') != 'Pretrained':
            raise ValueError('model.teacher_checkpoint is not set: a SimMIM checkpoint, '
                             'model-zoo name or URL to distil from')
        if self.teacher_checkpoint is not None:
            # its weights come from the checkpoint below: BaseModule.init_weights skips a
            # child whose public is_init is set
            self.teacher.is_init = True
        super().init_weights()
        if self.teacher_checkpoint is not None:
            load_teacher_weights(self.teacher, self.teacher_checkpoint, self.teacher_source)

    def train(self, mode: bool = True) -> 'MIMDistiller':
        """The teacher stays in eval mode (no drop path, no dropout) whatever the runner
        asks."""
        super().train(mode)
        self.teacher.eval()
        return self

    def extract_feat(self, inputs: Tensor):
        return self.backbone(inputs, None)

    def _student_mask(self, data_samples: List[DataSample]) -> Optional[Tensor]:
        if self.neck is None:
            return None
        masks = [sample.get('mask') for sample in data_samples]
        if any(mask is None for mask in masks):
            raise ValueError('model.neck is set (masked student with the pixel loss) but the '
                             'data samples carry no mask: add SimMIMMaskGenerator to the '
                             'train pipeline')
        return torch.stack(masks)

    def loss(self, inputs: Tensor, data_samples: List[DataSample], **kwargs) -> Dict[str, Tensor]:
        mask = self._student_mask(data_samples)
        if self.target == 'relations':
            with torch.no_grad():
                block = attention_blocks(self.teacher)[self.teacher_block]
                teacher_qkv, _ = qkv_at_block(self.teacher, block, inputs)
            # the student's forward stops at its last block unless the pixel loss needs it all
            student_qkv, outputs = qkv_at_block(
                self.backbone,
                attention_blocks(self.backbone)[-1],
                inputs,
                mask,
                stop=self.neck is None)
            losses = self.distill_loss(student_qkv, teacher_qkv)
        else:
            with torch.no_grad():
                target = feature_map(self.teacher, self.teacher(inputs, None)[-1], inputs)
            outputs = self.backbone(inputs, mask)
            features = feature_map(self.backbone, outputs[-1], inputs)
            losses = dict(loss_fd=self.distill_loss(self.projector(features), target))
        if self.neck is not None:
            features = feature_map(self.backbone, outputs[-1], inputs)
            losses['loss_pixel'] = self.head.loss(self.neck(features), inputs, mask)
        return losses
