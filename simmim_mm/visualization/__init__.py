from .reconstruction_grid import denormalize, reconstruction_grid

__all__ = ['denormalize', 'reconstruction_grid']
