"""`torch.optim.swa_utils`: stochastic weight averaging.

    swa_model = AveragedModel(model)          # a copy whose weights are running averages
    swa_scheduler = SWALR(optimizer, swa_lr=0.05)
    ... swa_model.update_parameters(model); swa_scheduler.step()
    update_bn(loader, swa_model)              # BatchNorm statistics for the averaged weights

`AveragedModel` keeps the mean of the weights it was given (or an exponential moving
average with `get_ema_multi_avg_fn(decay)`); `SWALR` anneals each group's learning rate
to its `swa_lr` over `anneal_epochs` steps, by a cosine or a straight line.
"""
from __future__ import annotations

import copy
import itertools
import math

from ..autograd import no_grad
from ..creation import tensor
from ..nn.layers.normalization import _BatchNorm
from ..nn.module import Module
from .lr_scheduler import LRScheduler


def get_ema_avg_fn(decay: float = 0.999):
    """average ← decay · average + (1 − decay) · current."""
    def ema_update(averaged, current, num_averaged):
        return decay * averaged + (1 - decay) * current
    return ema_update


def get_swa_avg_fn():
    """The running mean: average + (current − average) / (n + 1)."""
    def swa_update(averaged, current, num_averaged):
        return averaged + (current - averaged) / (num_averaged + 1)
    return swa_update


def get_ema_multi_avg_fn(decay: float = 0.999):
    """get_ema_avg_fn applied to lists of tensors, in place."""
    update = get_ema_avg_fn(decay)

    def ema_update(averaged_list, current_list, num_averaged):
        for averaged, current in zip(averaged_list, current_list):
            averaged.copy_(update(averaged, current, num_averaged))
    return ema_update


def get_swa_multi_avg_fn():
    update = get_swa_avg_fn()

    def swa_update(averaged_list, current_list, num_averaged):
        for averaged, current in zip(averaged_list, current_list):
            averaged.copy_(update(averaged, current, num_averaged))
    return swa_update


class AveragedModel(Module):
    """A copy of `model` (its `module`) whose parameters (and buffers, with use_buffers)
    are averaged over the models passed to `update_parameters`."""

    def __init__(self, model: Module, device=None, avg_fn=None, multi_avg_fn=None,
                 use_buffers: bool = False) -> None:
        super().__init__()
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0))
        self.avg_fn, self.multi_avg_fn = avg_fn, multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _tensors(self, model: Module) -> list:
        return list(itertools.chain(model.parameters(), model.buffers())) \
            if self.use_buffers else list(model.parameters())

    def update_parameters(self, model: Module) -> None:
        """Fold `model`'s current weights into the averages (the first call copies them)."""
        averaged, current = self._tensors(self.module), self._tensors(model)
        count = int(self.n_averaged.item())
        with no_grad():
            if count == 0:
                for mine, theirs in zip(averaged, current):
                    mine.copy_(theirs.detach().to(mine.device))
            elif self.multi_avg_fn is not None:
                self.multi_avg_fn(averaged, [t.detach() for t in current], self.n_averaged)
            else:
                update = self.avg_fn or get_swa_avg_fn()
                for mine, theirs in zip(averaged, current):
                    mine.copy_(update(mine.detach(), theirs.detach().to(mine.device),
                                      self.n_averaged))
            if not self.use_buffers:  # the buffers (BatchNorm's statistics) are model's
                for mine, theirs in zip(self.module.buffers(), model.buffers()):
                    mine.copy_(theirs.detach().to(mine.device))
        self.n_averaged += 1


@no_grad()
def update_bn(loader, model: Module, device=None) -> None:
    """Recompute the BatchNorm layers' running statistics with one pass over `loader`
    (each batch the tensor or a batch's first element), as an average over all of it."""
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    if not norms:
        return
    momenta = {}
    for norm in norms:
        norm.reset_running_stats()
        momenta[norm] = norm.momentum
        norm.momentum = None  # a cumulative average over the batches
    was_training = model.training
    model.train()
    for batch in loader:
        inputs = batch[0] if isinstance(batch, (list, tuple)) else batch
        model(inputs.to(device) if device is not None else inputs)
    for norm in norms:
        norm.momentum = momenta[norm]
    model.train(was_training)


class SWALR(LRScheduler):
    """Each group's learning rate annealed from its value to `swa_lr` over
    `anneal_epochs` steps ("cos": along half a cosine, "linear": a straight line), then
    held there."""

    def __init__(self, optimizer, swa_lr, anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1) -> None:
        swa_lrs = list(swa_lr) if isinstance(swa_lr, (list, tuple)) \
            else [swa_lr] * len(optimizer.param_groups)
        if len(swa_lrs) != len(optimizer.param_groups):
            raise ValueError(f"swa_lr must have one value per parameter group, got "
                             f"{len(swa_lrs)} for {len(optimizer.param_groups)}")
        for group, lr in zip(optimizer.param_groups, swa_lrs):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got "
                             f"{anneal_strategy}")
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got "
                             f"{anneal_epochs}")
        self.anneal_func = _cosine if anneal_strategy == "cos" else _linear
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        self._warn_if_called_outside_step()
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        before = self.anneal_func(min(1.0, max(0.0, (step - 1) / max(1, self.anneal_epochs))))
        now = self.anneal_func(min(1.0, max(0.0, step / max(1, self.anneal_epochs))))
        # each group's starting lr, recovered from its current one (another scheduler may
        # have moved it), then the share `now` of the way to swa_lr
        return [group["swa_lr"] * now + _start(group["lr"], group["swa_lr"], before) * (1 - now)
                for group in self.optimizer.param_groups]


def _cosine(t: float) -> float:
    return (1 - math.cos(math.pi * t)) / 2


def _linear(t: float) -> float:
    return t


def _start(lr: float, swa_lr: float, alpha: float) -> float:
    """The lr that `alpha` of the way to swa_lr gives `lr`."""
    return swa_lr if alpha == 1 else (lr - alpha * swa_lr) / (1 - alpha)
