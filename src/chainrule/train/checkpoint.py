"""The whole training state in one file: model, optimizer, scheduler, RNG, epoch, history.

Written with `cr.save` (safetensors, atomic rename, never pickle), so a run killed at any
moment leaves the previous epoch's checkpoint intact, and `--resume` continues from it to
the same final weights as a run that was never interrupted.
"""
from __future__ import annotations

from .. import backend
from ..serialize import load, save


def save_training_state(path: str, *, epoch: int, model, optimizer, scheduler=None,
                        history=(), global_step: int = 0, best=None, stale_epochs: int = 0,
                        run: dict | None = None):
    best = dict(best or {})
    state = {
        "format": "chainrule-training-state",
        "epoch": epoch,
        "global_step": global_step,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": backend.get_rng_state(),
        "history": list(history),
        "best": {"val_loss": best.get("val_loss", float("inf")), "epoch": best.get("epoch", -1),
                 "state": best.get("state")},
        "stale_epochs": stale_epochs,
        "run": run,  # the settings that shape the run (data set, seed, model, ...)
    }
    save(state, path)


def read_training_state(path: str) -> dict:
    """The checkpoint at `path` as a dict, checked to be one."""
    state = load(path)
    if not isinstance(state, dict) or state.get("format") != "chainrule-training-state":
        raise ValueError(f"{path} is not a chainrule training checkpoint")
    return state


def load_training_state(path: str, model, optimizer, scheduler=None) -> dict:
    """Restore model, optimizer, scheduler and RNG from `path`; return the rest."""
    state = read_training_state(path)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state["scheduler"] is not None:
        scheduler.load_state_dict(state["scheduler"])
    backend.set_rng_state(state["rng"])
    return state
