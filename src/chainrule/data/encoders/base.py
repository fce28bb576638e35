"""What every encoder shares: a state dict of plain values, restorable by its ``type`` field.

State dicts hold only numbers, strings, booleans and lists of those, so they can be
saved as JSON (or beside a model's tensors) and loaded without pickle.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import DataError

if TYPE_CHECKING:  # only read by type checkers: no runtime dependency
    from typing_extensions import Self

State = dict[str, Any]

_REGISTRY: dict[str, type[Encoder]] = {}


class Encoder:
    """Base class: subclasses list their constructor arguments in ``_state_keys``."""

    _state_keys: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

    def state_dict(self) -> State:
        """Everything needed to rebuild this encoder, as plain values."""
        state: State = {"type": type(self).__name__}
        for key in self._state_keys:
            state[key] = _plain(getattr(self, key))
        return state

    @classmethod
    def from_state_dict(cls, state: State) -> Self:
        """Rebuild an encoder saved with ``state_dict``."""
        if state.get("type", cls.__name__) != cls.__name__:
            raise DataError(f"state dict is for {state.get('type')}, not {cls.__name__}")
        return cls(**{k: v for k, v in state.items() if k != "type"})


def encoder_from_state_dict(state: State) -> Encoder:
    """Rebuild any encoder from its state dict, choosing the class by ``state['type']``."""
    kind = state.get("type")
    if kind not in _REGISTRY:
        raise DataError(f"unknown encoder type {kind!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[kind].from_state_dict(state)


def _plain(value: Any) -> Any:
    """Encoders (e.g. a Vocab inside a BagOfWords) become their own state dicts."""
    return value.state_dict() if isinstance(value, Encoder) else value
