from .resumable_sampler import ResumableSampler, SeededSampleDataset

__all__ = ['ResumableSampler', 'SeededSampleDataset']
