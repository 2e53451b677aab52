import math

from mmengine.optim import CosineAnnealingLR

from simmim_mm.registry import PARAM_SCHEDULERS


@PARAM_SCHEDULERS.register_module()
class FullPhaseCosineAnnealingLR(CosineAnnealingLR):
    """Cosine annealing whose phase counts from step 0 of training, though it only takes over
    at ``begin`` (after warmup).

    This is the official SimMIM schedule, timm's ``CosineLRScheduler(t_initial=total,
    warmup_t=warmup)``: at step t >= warmup, lr = min + (base - min) * (1 + cos(pi t / T)) / 2
    with T the whole run. MMEngine's CosineAnnealingLR restarts the phase at ``begin`` and so
    holds lr higher (at mid-run of the 100-epoch Swin-B schedule, 0.59 of base instead of 0.5).
    Set ``T_max`` to the whole run.
    """

    def _get_value(self) -> list:
        phase = math.pi * self._global_step / self.T_max
        values = []
        for base in self.base_values:
            eta_min = self.eta_min if self.eta_min_ratio is None else base * self.eta_min_ratio
            values.append(eta_min + (base - eta_min) * (1 + math.cos(phase)) / 2)
        return values
