"""`swap_in_optimizer_params_and_state`: run an optimizer for a while on other parameters
and another state (a copy of the model, a saved state dict), then give it back its own."""
from __future__ import annotations

import contextlib
from collections import defaultdict
from typing import Any

from ..tensor import Tensor

__all__ = ["swap_in_optimizer_params_and_state"]

_NAME = "swap_in_optimizer_params_and_state"


@contextlib.contextmanager
def swap_in_optimizer_params_and_state(optimizer, swapin_parameters: dict,
                                       swapin_optim_state: dict):
    """Inside the block, `optimizer` steps the tensors of `swapin_parameters` (a dict in
    the order of its own parameters, as `model.named_parameters()`) from the state of
    `swapin_optim_state` (an `optimizer.state_dict()`: per-parameter states keyed by
    packed ids, and param_groups with the same keys as the live ones). In-place changes
    to that state's tensors are seen by the caller; on leaving, the optimizer's own
    parameters, hyperparameters and state come back."""
    if not optimizer.state:
        raise RuntimeError(f"{_NAME} requires initialized optimizer state")
    state, groups = _checked(optimizer, swapin_optim_state)
    tensors = list(swapin_parameters.values())
    if sum(len(g["params"]) for g in groups) > len(tensors):
        raise RuntimeError(f"{_NAME}: {len(tensors)} parameters given, the optimizer's "
                           f"groups hold {sum(len(g['params']) for g in groups)}")
    saved_state, saved_groups = optimizer.state, [dict(g) for g in optimizer.param_groups]
    swapped: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
    start = 0
    for live, group in zip(optimizer.param_groups, groups):
        params = tensors[start:start + len(group["params"])]
        start += len(params)
        live.update({k: v for k, v in group.items() if k != "params"}, params=params)
        for tensor, packed in zip(params, group["params"]):
            swapped[tensor] = dict(state.get(packed, {}))
    optimizer.state = swapped
    try:
        yield
    finally:
        for live, saved in zip(optimizer.param_groups, saved_groups):
            live.clear()
            live.update(saved)
        optimizer.state = saved_state


def _checked(optimizer, state_dict) -> tuple[dict, list]:
    """The state and param_groups of a state dict shaped like the optimizer's own."""
    state = state_dict.get("state") if isinstance(state_dict, dict) else None
    groups = state_dict.get("param_groups") if isinstance(state_dict, dict) else None
    if not isinstance(state, dict) or not all(
            isinstance(k, int) and isinstance(v, dict) for k, v in state.items()):
        raise RuntimeError(f"{_NAME} requires swapin_optim_state['state'] to map packed "
                           f"parameter ids to per-parameter state dicts")
    if not isinstance(groups, list) or len(groups) != len(optimizer.param_groups):
        raise RuntimeError(f"{_NAME} requires swapin_optim_state['param_groups'] to be a "
                           f"list of {len(optimizer.param_groups)} param-group dicts")
    packed = set()
    for i, (live, group) in enumerate(zip(optimizer.param_groups, groups)):
        ids = group.get("params") if isinstance(group, dict) else None
        if not isinstance(ids, list) or not all(isinstance(n, int) for n in ids) \
                or len(ids) != len(live["params"]) or set(group) != set(live):
            raise RuntimeError(f"{_NAME}: param group {i} must have the live group's keys "
                               f"and as many packed parameter ids as it has parameters")
        packed.update(ids)
    if set(state) - packed:
        raise RuntimeError(f"{_NAME}: state keyed by ids that no param group lists: "
                           f"{sorted(set(state) - packed)}")
    return state, groups
