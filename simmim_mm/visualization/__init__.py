from .reconstruction_grid import denormalize, reconstruction_grid, shows_channelwise

__all__ = ['denormalize', 'reconstruction_grid', 'shows_channelwise']
