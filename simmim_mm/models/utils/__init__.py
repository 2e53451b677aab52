from .multi_channel_preprocessor import MultiChannelDataPreprocessor
from .relative_position import resize_relative_position_bias_table
from .transfer_init import SimMIMPretrainedInit, adapt_encoder_state

__all__ = [
    'MultiChannelDataPreprocessor', 'SimMIMPretrainedInit', 'adapt_encoder_state',
    'resize_relative_position_bias_table'
]
