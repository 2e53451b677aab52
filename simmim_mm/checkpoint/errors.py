"""The error of every checkpoint path (loading, conversion, the model zoo's conversions)."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be converted or loaded: the message names the keys/file."""
