"""Build-time checks that a teacher and a student can be distilled with a given target.

A pairing that cannot work (relations between different head counts or token layouts,
feature maps of different sizes) is a ValueError naming the config field to change, raised
when the model is built rather than as a shape error in the first iteration.
"""
import math
from typing import Tuple

from torch import nn

from ..utils.attention_blocks import (
    attention_blocks,
    block_num_heads,
    block_stage,
    block_window,
    is_pre_norm_block,
)

STUDENT_HEADS_FIELD = {
    'vit': 'model.backbone.layer_cfgs[-1].num_heads',
    'swin': 'model.backbone.stage_cfgs[-1].block_cfgs[-1].num_heads',
}


def family(encoder: nn.Module) -> str:
    return 'swin' if hasattr(encoder, 'stages') else 'vit'


def input_size(encoder: nn.Module) -> Tuple[int, int]:
    return tuple(encoder.patch_embed.init_input_size)


def token_grid(encoder: nn.Module, stage: int = 0) -> Tuple[int, int]:
    """The token map of a stage at the encoder's img_size (each Swin patch merging halves it,
    rounding up as its padding does)."""
    height, width = encoder.patch_embed.init_out_size
    for _ in range(stage):
        height, width = math.ceil(height / 2), math.ceil(width / 2)
    return height, width


def final_grid(encoder: nn.Module) -> Tuple[int, int]:
    return token_grid(encoder, len(encoder.stages) - 1 if hasattr(encoder, 'stages') else 0)


def check_same_input(teacher: nn.Module, student: nn.Module) -> None:
    """Both models see the same images, so they must be built for the same size."""
    if input_size(teacher) != input_size(student):
        raise ValueError(f'model.teacher.img_size {input_size(teacher)} differs from '
                         f'model.backbone.img_size {input_size(student)}: teacher and student '
                         'see the same images; set both to the distillation image size')


def check_feature_pairing(teacher: nn.Module, student: nn.Module) -> None:
    """FD regresses the teacher's final map position by position: the maps must match."""
    check_same_input(teacher, student)
    if final_grid(teacher) != final_grid(student):
        raise ValueError(
            f'model.teacher ({type(teacher).__name__}) ends in a {final_grid(teacher)} '
            f'feature map, model.backbone ({type(student).__name__}) in '
            f'{final_grid(student)}: target="features" compares them position by position; '
            'pick encoders with the same total stride (e.g. Swin and Swin, ViT and ViT)')


def check_full_forward(student: nn.Module, reason: str) -> None:
    """A BEiT-style ViT shares one relative position bias across its blocks, with the
    encoder's head count: a last block given other heads (TinyMIM's distilled block) can only
    be reached through its q / k / v, never run."""
    shared = getattr(student, 'rel_pos_bias', None)
    last = attention_blocks(student)[-1]
    if shared is not None and shared.relative_position_bias_table.shape[1] != \
            block_num_heads(last):
        raise ValueError(
            f'{STUDENT_HEADS_FIELD["vit"]}={block_num_heads(last)} differs from the '
            f'{shared.relative_position_bias_table.shape[1]} heads of the shared relative '
            f'position bias, so the student cannot run its last block, which {reason} needs; '
            'keep the heads of the last block for target="relations" without neck / head')


def check_relation_pairing(teacher: nn.Module, teacher_block: int, student: nn.Module) -> None:
    """TinyMIM's relations are compared head by head, token by token: the teacher's chosen
    block and the student's last block need the same heads and the same tokens (ViT: the
    same patch grid, cls token included; Swin: the same windows of the same map)."""
    check_same_input(teacher, student)
    blocks = attention_blocks(teacher)
    if not -len(blocks) <= teacher_block < len(blocks):
        raise ValueError(f'model.teacher_block={teacher_block}: the teacher has '
                         f'{len(blocks)} blocks')
    t_block, s_block = blocks[teacher_block], attention_blocks(student)[-1]
    for field, encoder, block in (('model.teacher', teacher, t_block), ('model.backbone', student,
                                                                        s_block)):
        if not is_pre_norm_block(block):
            raise ValueError(f'{field}.type={type(encoder).__name__}: its {type(block).__name__} '
                             'blocks have no pre-norm q / k / v (SwinV2 normalises after the '
                             'attention); use target="features"')
    if family(teacher) != family(student):
        raise ValueError(f'model.teacher.type={type(teacher).__name__} and model.backbone.type='
                         f'{type(student).__name__}: relations need the same token layout '
                         '(ViT with ViT, Swin with Swin); use target="features"')
    heads = block_num_heads(t_block)
    if block_num_heads(s_block) != heads:
        raise ValueError(f'{STUDENT_HEADS_FIELD[family(student)]}={block_num_heads(s_block)}: '
                         f'the teacher block {teacher_block} has {heads} heads; relations are '
                         f'matched head by head, so set it to {heads} (TinyMIM: 12 heads in '
                         'the last block of a ViT-S / ViT-T student of a ViT-B)')
    t_grid = token_grid(teacher, block_stage(teacher, teacher_block))
    s_grid = token_grid(student, block_stage(student, -1))
    if family(student) == 'vit':
        t_tokens = (t_grid, teacher.num_extra_tokens)
        s_tokens = (s_grid, student.num_extra_tokens)
        if t_tokens != s_tokens:
            raise ValueError(f'model.backbone: {s_grid} patches + {s_tokens[1]} cls tokens, the '
                             f'teacher {t_grid} + {t_tokens[1]}: relations need the same tokens '
                             '(model.backbone.patch_size / img_size)')
        return
    t_window, s_window = block_window(t_block), block_window(s_block)
    for field, grid, window in (('model.teacher', t_grid, t_window), ('model.backbone', s_grid,
                                                                      s_window)):
        window = min(window, *grid)
        if grid[0] % window or grid[1] % window:
            raise ValueError(f'{field}: window {window} does not tile the {grid} map of the '
                             'distilled block')
    if (t_grid, min(t_window, *t_grid)) != (s_grid, min(s_window, *s_grid)):
        raise ValueError(
            f'model.backbone.stage_cfgs[-1].block_cfgs[-1].window_size={s_window} on a {s_grid} '
            f'map, the teacher block {teacher_block}: window {t_window} on {t_grid}; relations '
            'are compared window by window, so map and window must match')
