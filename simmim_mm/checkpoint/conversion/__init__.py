"""Checkpoints of other SimMIM code bases (microsoft/SimMIM, Hugging Face, mmpretrain) ->
simmim_mm: one module per source layout, the shared key renaming and checks, and the search
for the config the converted weights fit."""
from .convert import SOURCES, convert_checkpoint

__all__ = ['SOURCES', 'convert_checkpoint']
