"""A pickle interpreter that can only build data: the opcodes are walked one by one
(`pickletools.genops` parses them; nothing here hands bytes to `pickle`) and executed on a
small stack machine whose only callables are the ones the caller allows.

A pickle is a program for a stack machine: push constants, build tuples, lists and dicts,
look up a global by "module name" and call it with a tuple (REDUCE). Python's own unpickler
imports whatever global the file names, so a file that says `os system` and
`REDUCE ("rm -rf ~",)` runs that command. Here a GLOBAL is looked up in the caller's
`allowed` table and any other name is refused, in one line naming it, before anything is
called: the worst a hostile file can do is fail to load.
"""
from __future__ import annotations

from pickletools import genops

__all__ = ["RestrictedUnpickler", "UnpicklingRefused"]


class UnpicklingRefused(ValueError):
    """The pickle asks for something this reader will not build (a global, an opcode)."""


class _Mark:
    """Where a MARK opcode cut the stack (TUPLE, LIST, DICT, SETITEMS take what follows)."""


_MARK = _Mark()

_CONSTANTS = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}
# Opcodes whose argument (decoded by genops) is the value they push.
_PUSH_ARG = {"INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT",
             "BINFLOAT", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8",
             "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8"}
_EMPTY = {"EMPTY_DICT": dict, "EMPTY_LIST": list, "EMPTY_TUPLE": tuple, "EMPTY_SET": set}
_IGNORED = {"PROTO", "FRAME"}


class RestrictedUnpickler:
    """Runs one pickle from `stream` with `allowed` {"module name": callable} as its only
    globals and `persistent_load(pid)` for BINPERSID (PyTorch's storages). `build(obj,
    state)` handles BUILD (setting an object's state); by default it is refused."""

    def __init__(self, allowed: dict, persistent_load=None, build=None):
        self.allowed = allowed
        self.persistent_load = persistent_load
        self.build = build

    def load(self, stream):
        stack: list = []
        memo: dict = {}
        try:
            for opcode, arg, _ in genops(stream):
                name = opcode.name
                if name == "STOP":
                    return _pop(stack)
                self._step(name, arg, stack, memo)
        except UnpicklingRefused:
            raise
        except (IndexError, KeyError, TypeError, AttributeError) as err:
            raise UnpicklingRefused(f"malformed pickle ({type(err).__name__}: {err})") from None
        raise UnpicklingRefused("the pickle ends without STOP (truncated file)")

    def _step(self, name: str, arg, stack: list, memo: dict) -> None:
        if name in _IGNORED:
            return
        if name in _CONSTANTS:
            stack.append(_CONSTANTS[name])
        elif name in _PUSH_ARG:
            stack.append(arg)
        elif name in ("STRING", "BINSTRING", "SHORT_BINSTRING"):  # Python 2 str
            stack.append(arg.decode("latin-1") if isinstance(arg, bytes) else arg)
        elif name in _EMPTY:
            stack.append(_EMPTY[name]())
        elif name == "MARK":
            stack.append(_MARK)
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            n = int(name[-1])
            items = tuple(stack[-n:])
            if len(items) != n or any(item is _MARK for item in items):
                raise UnpicklingRefused(f"malformed pickle: {name} without {n} values")
            del stack[-n:]
            stack.append(items)
        elif name in ("TUPLE", "LIST", "FROZENSET", "DICT"):
            items = _pop_to_mark(stack)
            if name == "DICT":
                stack.append(dict(zip(items[::2], items[1::2])))
            else:
                stack.append({"TUPLE": tuple, "LIST": list, "FROZENSET": frozenset}[name](items))
        elif name == "APPEND":
            value = _pop(stack)
            _expect(stack[-1], list, "APPEND").append(value)
        elif name == "APPENDS":
            items = _pop_to_mark(stack)
            _expect(stack[-1], list, "APPENDS").extend(items)
        elif name == "ADDITEMS":
            items = _pop_to_mark(stack)
            _expect(stack[-1], set, "ADDITEMS").update(items)
        elif name == "SETITEM":
            value, key = _pop(stack), _pop(stack)
            _expect(stack[-1], dict, "SETITEM")[key] = value
        elif name == "SETITEMS":
            items = _pop_to_mark(stack)
            target = _expect(stack[-1], dict, "SETITEMS")
            for key, value in zip(items[::2], items[1::2]):
                target[key] = value
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = stack[-1]
        elif name == "MEMOIZE":
            memo[len(memo)] = stack[-1]
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            stack.append(memo[arg])
        elif name == "POP":
            stack.pop()
        elif name == "POP_MARK":
            _pop_to_mark(stack)
        elif name == "DUP":
            stack.append(stack[-1])
        elif name == "GLOBAL":
            module, _, qualname = arg.partition(" ")
            stack.append(self._global(module, qualname))
        elif name == "STACK_GLOBAL":
            qualname, module = _pop(stack), _pop(stack)
            stack.append(self._global(str(module), str(qualname)))
        elif name in ("REDUCE", "NEWOBJ"):
            args = _expect(_pop(stack), tuple, name)
            stack.append(self._call(_pop(stack), args))
        elif name == "BUILD":
            state = _pop(stack)
            if self.build is None:
                raise UnpicklingRefused(f"BUILD (setting the state of a "
                                        f"{type(stack[-1]).__name__}) is not allowed")
            self.build(stack[-1], state)
        elif name in ("BINPERSID", "PERSID"):
            if self.persistent_load is None:
                raise UnpicklingRefused("a persistent id, but this pickle may not have any")
            stack.append(self.persistent_load(_pop(stack) if name == "BINPERSID" else arg))
        else:  # INST, OBJ, EXT1/2/4, NEWOBJ_EX, ...: ways to build arbitrary objects
            raise UnpicklingRefused(f"pickle opcode {name} is not allowed")

    def _global(self, module: str, qualname: str):
        key = f"{module}.{qualname}"
        if key not in self.allowed:
            raise UnpicklingRefused(f"refusing global {key}: only tensors, storages and "
                                    "plain containers are loaded")
        return self.allowed[key]

    def _call(self, function, args: tuple):
        """REDUCE/NEWOBJ: only the allowed callables themselves may be called."""
        if not callable(function) or not any(function is f for f in self.allowed.values()):
            raise UnpicklingRefused(f"cannot call {function!r:.60}: not an allowed function")
        return function(*args)


def _pop(stack: list):
    """The value on top of the stack (a MARK there is a malformed pickle)."""
    value = stack.pop()
    if value is _MARK:
        raise UnpicklingRefused("malformed pickle: a MARK where a value should be")
    return value


def _pop_to_mark(stack: list) -> list:
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] is _MARK:
            items = stack[i + 1:]
            del stack[i:]
            return items
    raise UnpicklingRefused("malformed pickle: no MARK on the stack")


def _expect(value, kind: type, opcode: str):
    if not isinstance(value, kind):
        raise UnpicklingRefused(f"malformed pickle: {opcode} on a {type(value).__name__}")
    return value
