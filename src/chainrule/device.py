"""`cr.device`: where a tensor's numbers live, named as PyTorch names it.

    cr.device("cpu"), cr.device("cuda"), cr.device("cuda:0"), cr.device("cuda", 1)

A device is a type and an optional index. It prints as PyTorch's (`cuda:0`,
`device(type='cuda', index=0)`), compares equal to another device or to its own name
(`t.device == "cpu"`), and is accepted wherever a device is (`.to()`, factory `device=`).
chainrule computes on "cpu" (NumPy) and "cuda" (CuPy). Other PyTorch device types
("mps", "xpu", ...) can be named, so that device boilerplate runs, but a tensor cannot be
put there: asking for one is a one-line RuntimeError.
"""
from __future__ import annotations

# The device types PyTorch knows, in the order of its own error message.
KNOWN_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip",
               "ve", "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
               "privateuseone")
COMPUTES_ON = ("cpu", "cuda")
# The devices of the `with cr.device(...)` blocks being run, innermost last: inside one,
# it is the default device of new tensors (backend.default_device reads it).
ENTERED: list = []


class device:  # noqa: N801 - PyTorch's name
    __slots__ = ("type", "index")

    def __init__(self, type: str | device, index: int | None = None):  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        elif isinstance(type, int) and not isinstance(type, bool):
            type, index = "cuda", type  # torch.device(0) is the first GPU
        elif not isinstance(type, str):
            raise TypeError(f"device(): expected a device name such as 'cpu' or 'cuda:0', "
                            f"got {type!r}")
        name, _, number = type.partition(":")
        if name not in KNOWN_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(KNOWN_TYPES)} device type at start "
                               f"of device string: {type}")
        if number:
            if index is not None or not number.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(number)
        if index is not None and (not isinstance(index, int) or index < 0):
            raise RuntimeError(f"Device index must not be negative, got {index}")
        object.__setattr__(self, "type", name)
        object.__setattr__(self, "index", index)

    def __setattr__(self, name, value):
        raise AttributeError("a device is immutable")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __reduce__(self):
        """Pickled as its type and index (a Process's argument, a saved object), rebuilt
        through the constructor: its attributes cannot be set one by one."""
        return device, (self.type, self.index)

    def __enter__(self) -> "device":
        ENTERED.append(self)
        return self

    def __exit__(self, *exc) -> None:
        ENTERED.pop()

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            return other == str(self)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))
