from .full_phase_cosine import FullPhaseCosineAnnealingLR

__all__ = ['FullPhaseCosineAnnealingLR']
