from .mmengine_compat import allow_mmengine_checkpoints, mmengine_checkpoint_classes

__all__ = ['allow_mmengine_checkpoints', 'mmengine_checkpoint_classes']
