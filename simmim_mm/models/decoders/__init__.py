from .simmim_decoder import SimMIMDecoder

__all__ = ['SimMIMDecoder']
