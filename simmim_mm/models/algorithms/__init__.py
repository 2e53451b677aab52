from .distiller import MIMDistiller
from .simmim import SimMIM

__all__ = ['MIMDistiller', 'SimMIM']
