"""`save` and `load`: checkpoints as safetensors files, which never run code on load.

    cr.save(model.state_dict(), "model.safetensors")
    model.load_state_dict(cr.load("model.safetensors"))

    cr.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3}, "ckpt")
    ckpt = cr.load("ckpt", device="cuda")

The file is a plain safetensors file (https://github.com/huggingface/safetensors). Every
array in `obj` is one tensor in it, named by its dotted path: `{"fc": {"weight": w}}`
stores `w` as "fc.weight", so a model's state dict is stored under exactly its own keys
and other tools (PyTorch, `safetensors.numpy.load_file`) read it as they would their own.
Everything else -- numbers, strings, None, the shape of the nesting, which dict keys are
ints and which sequences are tuples -- is JSON in one metadata entry, `__chainrule__`:

    {"format": "chainrule", "version": 1, "tree": <node>}

where a node is a JSON null/bool/number/string for that same Python value, or an object
tagged by "t":

    {"t": "tensor", "k": NAME}          a chainrule Tensor, stored as tensor NAME
    {"t": "ndarray", "k": NAME}         a NumPy array, stored as tensor NAME
    {"t": "dict", "v": {str: node}}     a dict whose keys are all strings
    {"t": "dict", "items": [[node, node], ...]}   any other dict (int keys, ...)
    {"t": "list", "v": [node, ...]}     also "tuple"
    {"t": "int", "v": "DIGITS"}         an int beyond +-2**53 (an RNG state), as a string
    {"t": "float", "v": "nan"}          also "inf", "-inf"
    {"t": "npscalar", "dtype": "float32", "v": node}  a NumPy scalar (numpy.float32(0.5))
    {"t": "dtype", "v": "float32"}      a NumPy dtype
    {"t": "device", "v": "cuda:0"}      a chainrule device (a model's `self.device`)
    {"t": "set", "v": [node, ...]}      a set
    {"t": "object", "codec": NAME, "id": N, "class": "module:QualName", "v": node}
                                        a whole object (a model), see Note [whole objects]
    {"t": "same", "id": N}              the object with that id again (one Parameter
                                        reached twice stays one object)
    dicts may add "ordered": true (an OrderedDict), or "default": "list" (a defaultdict
    of list; also dict, OrderedDict, set, int, float)

Note [whole objects]. `torch.save(model)` pickles a model whole, and `torch.load` unpickles
it, which runs whatever code the file names. Here a codec, registered by a higher layer
(chainrule.io.whole registers them: modules, parameters, what modules hold), reduces
such an object to the import path of its class and a dict of its attributes, saved like
any other tree. `load` rebuilds it from that without calling the class: it looks the class
up among the modules already imported (chainrule's own it may import), makes a bare
instance and sets the attributes. Nothing in the file is executed; a class whose module
is not imported is an error that says to import it.

A safetensors file without this entry (one written by `safetensors.torch.save_file`, say)
loads as a flat dict of Tensors under the file's own names; bfloat16 tensors, which NumPy
cannot hold, come back as float32 (exactly: bfloat16 is float32 with a shorter mantissa).

Writes are atomic: the bytes go to a temporary file in the target's directory, are flushed
to disk, and only then renamed over the target, so a crash or a full disk mid-save leaves
the previous checkpoint as it was. Nothing here imports pickle; loading only parses JSON
and copies numbers.
"""
from __future__ import annotations

import errno
import json
import math
import os
import stat
import struct
import tempfile
from collections import OrderedDict, defaultdict

import numpy

from . import backend
from .device import device as Device  # the class; `device` names a load argument
from .tensor import Tensor

__all__ = ["save", "load", "SaveError", "LoadError", "FORMAT_VERSION", "remove_orphaned_saves",
           "register_codec"]

FORMAT_VERSION = 1
METADATA_KEY = "__chainrule__"

_MAX_EXACT_INT = 2 ** 53          # JSON readers outside Python hold integers as doubles
_WRITE_CHUNK = 16 * 1024 * 1024
_STORABLE_DTYPES = frozenset(numpy.dtype(name) for name in (
    "bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64",
    "float16", "float32", "float64"))
_os_write = os.write                 # module level, so tests can make the disk "fill up"


_codecs: dict = {}  # name -> codec of whole objects (Note [whole objects])
# the default factories a saved defaultdict may have, by name
_DEFAULTS = {kind.__name__: kind for kind in (list, dict, OrderedDict, set, int, float)}


def register_codec(codec) -> None:
    """Let `save` write whole objects that `codec.accepts(value)`, as `codec.reduce(value)`
    (a dict of attributes) under `codec.class_path(value)`, and `load` rebuild them: with
    `codec.create(class_path)` (a bare object, so that the attributes may lead back to it)
    then `codec.fill(obj, attributes)`, or, for a codec without `create`, with
    `codec.rebuild(class_path, attributes)`. `codec.name` names it in files."""
    _codecs[codec.name] = codec


class SaveError(OSError):
    """A checkpoint could not be written; the file that was there before is untouched."""

    def __init__(self, message: str, errno_: int | None = None, filename=None):
        super().__init__(message)
        self.errno = errno_
        self.filename = filename
        self.message = message

    def __str__(self) -> str:
        return self.message


class LoadError(ValueError):
    """A file that is not a readable chainrule/safetensors checkpoint."""


def _safetensors():
    try:
        import safetensors  # noqa: PLC0415 - optional dependency
        import safetensors.numpy  # noqa: F401,PLC0415
    except ImportError as err:
        raise ImportError("chainrule.save/load need the safetensors package: "
                          "pip install 'safetensors>=0.4,<1'") from err
    return safetensors


# --- save ------------------------------------------------------------------------------

class _Encoder:
    """Turns `obj` into a JSON tree plus a {name: contiguous CPU array} dict."""

    def __init__(self):
        self.arrays: dict[str, numpy.ndarray] = {}
        self._names_by_array: dict[int, str] = {}
        self._keep_alive: list = []     # so an id() is not reused while we encode
        self._active: set[int] = set()  # containers on the current path (cycle check)
        self._objects: dict[int, int] = {}  # id of a whole object -> its number in the file

    def encode(self, value, path: tuple):
        if value is None or isinstance(value, (bool, str)):
            return value
        for codec in _codecs.values():
            if codec.accepts(value):
                return self._whole(value, codec, path)
        if isinstance(value, numpy.generic):  # before int/float: numpy.float64 is a float
            if value.dtype not in _STORABLE_DTYPES:
                raise TypeError(f"cannot save {_where(path)}: NumPy scalars of dtype "
                                f"{value.dtype} are not supported")
            return {"t": "npscalar", "dtype": value.dtype.name,
                    "v": self.encode(value.item(), path)}
        if isinstance(value, int):
            value = int(value)  # an IntEnum or other int subclass saves as its number
            return value if -_MAX_EXACT_INT <= value <= _MAX_EXACT_INT \
                else {"t": "int", "v": str(value)}
        if isinstance(value, float):
            value = float(value)
            return value if math.isfinite(value) else {"t": "float", "v": repr(value)}
        if isinstance(value, Tensor):
            return {"t": "tensor", "k": self._store(value.array, path)}
        if isinstance(value, numpy.ndarray):
            return {"t": "ndarray", "k": self._store(value, path)}
        if isinstance(value, Device):
            return {"t": "device", "v": str(value)}
        if isinstance(value, numpy.dtype) and value.names is None:
            same = numpy.dtype(value.name) == value
            return {"t": "dtype", "v": value.name if same else value.str}
        if isinstance(value, (dict, list, tuple, set, frozenset)):
            if id(value) in self._active:
                raise ValueError(f"cannot save {_where(path)}: the object contains itself")
            self._active.add(id(value))
            try:
                return self._container(value, path)
            finally:
                self._active.discard(id(value))
        return _unsupported(value, path)

    def _container(self, value, path: tuple):
        if isinstance(value, dict):
            node: dict = {"t": "dict"}
            if isinstance(value, OrderedDict):
                node["ordered"] = True
            if isinstance(value, defaultdict):
                factory = getattr(value.default_factory, "__name__", None)
                if _DEFAULTS.get(factory) is not value.default_factory:
                    raise TypeError(f"cannot save {_where(path)}: a defaultdict of "
                                    f"{value.default_factory!r} (of {', '.join(_DEFAULTS)} only)")
                node["default"] = factory
            if all(type(k) is str for k in value):
                node["v"] = {k: self.encode(v, path + (k,)) for k, v in value.items()}
            else:
                node["items"] = [[self._key(k, path), self.encode(v, path + (k,))]
                                 for k, v in value.items()]
            return node
        if isinstance(value, (set, frozenset)):
            return {"t": "set", "v": [self.encode(v, path + (i,)) for i, v in enumerate(value)]}
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {"t": kind, "v": [self.encode(v, path + (i,)) for i, v in enumerate(value)]}

    def _whole(self, value, codec, path: tuple):
        """A whole object (Note [whole objects]); the same object again, even from inside
        itself (a hook that holds its module), as a reference."""
        if id(value) in self._objects:
            return {"t": "same", "id": self._objects[id(value)]}
        try:
            where = codec.class_path(value)
        except TypeError as err:
            raise TypeError(f"cannot save {_where(path)}: {err}") from None
        self._keep_alive.append(value)
        number = self._objects[id(value)] = len(self._objects)
        return {"t": "object", "codec": codec.name, "id": number, "class": where,
                "v": self.encode(codec.reduce(value), path)}

    def _key(self, key, path: tuple):
        if isinstance(key, (Tensor, numpy.ndarray)):
            raise TypeError(f"cannot save {_where(path)}: a dict key is a "
                            f"{type(key).__name__}; keys must be plain values")
        return self.encode(key, path + (key,))

    def _store(self, array, path: tuple) -> str:
        known = self._names_by_array.get(id(array))
        if known is not None:  # the same array twice (tied weights): stored once
            return known
        self._keep_alive.append(array)
        cpu = numpy.asarray(backend.to_device(array, "cpu"))
        if not cpu.dtype.isnative:  # stored little-endian, as safetensors requires
            cpu = cpu.astype(cpu.dtype.newbyteorder("="))
        if cpu.dtype not in _STORABLE_DTYPES:
            raise TypeError(f"cannot save {_where(path)}: arrays of dtype {cpu.dtype} are "
                            f"not supported (use bool, int8-64, uint8-64 or float16/32/64)")
        if not cpu.flags.c_contiguous:
            cpu = cpu.copy(order="C")
        name = self._unique_name(".".join(str(p) for p in path) or "tensor")
        self.arrays[name] = cpu
        self._names_by_array[id(array)] = name
        return name

    def _unique_name(self, name: str) -> str:
        candidate, n = name, 0
        while candidate in self.arrays or candidate == "__metadata__":
            n += 1
            candidate = f"{name}~{n}"
        return candidate


def _where(path: tuple) -> str:
    return "obj" + "".join(f"[{p!r}]" for p in path)


def _unsupported(value, path: tuple):
    raise TypeError(
        f"cannot save {_where(path)}: objects of type {type(value).__name__} are not "
        f"supported (save Tensors, NumPy arrays, numbers, strings, None, and "
        f"dicts/lists/tuples of these; call .state_dict() on modules and optimizers)")


def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False) -> None:
    """Write `obj` (a state dict, or a nested dict/list of Tensors, arrays and plain
    values, or a whole model: Note [whole objects]) to the safetensors file `f` (a path,
    atomically: on any failure the file that was there before is left untouched and
    `SaveError` is raised; or a binary file object). torch.save's pickle arguments are
    accepted and change nothing: nothing here pickles."""
    safetensors = _safetensors()
    encoder = _Encoder()
    tree = encoder.encode(obj, ())
    header = {"format": "chainrule", "version": FORMAT_VERSION, "tree": tree}
    metadata = {METADATA_KEY: json.dumps(header, allow_nan=False, separators=(",", ":"))}
    data = safetensors.numpy.save(encoder.arrays, metadata=metadata)
    if hasattr(f, "write"):
        f.write(data)
    else:
        _write_atomically(os.fspath(f), data)


def _write_atomically(path, data: bytes) -> None:
    target = os.path.realpath(path)  # through a symlink: replace the file it points at
    directory = os.path.dirname(target) or os.curdir
    existed = os.path.exists(target)
    tmp = None
    remove_orphaned_saves(directory, os.path.basename(target))
    try:
        fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(os.path.basename(target), os.getpid()),
                                   suffix=".tmp", dir=directory)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, _mode_for(target))
            view = memoryview(data)
            while view:
                written = _os_write(fd, view[:_WRITE_CHUNK])
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
        tmp = None
    except OSError as err:
        previous = ("the previous file is untouched" if existed
                    else "no file was written")
        raise SaveError(f"could not save checkpoint to {path}: "
                        f"{_reason(err, directory)}; {previous}",
                        err.errno, path) from err
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    _fsync_directory(directory)


def _tmp_prefix(name: str, pid: int) -> str:
    """Temporary files are named after their target and the writing process:
    `.model.safetensors.<pid>.<random>.tmp`."""
    return f".{name}.{pid}."


def remove_orphaned_saves(directory: str, name: str | None = None) -> None:
    """Delete the temporary files that saves killed mid-write left in `directory` (those of
    target `name` only, when given): `.<name>.<pid>.<random>.tmp` whose process is gone. Every
    save does this for its own target, so killed runs do not pile up partial checkpoints."""
    try:
        entries = os.listdir(directory)
    except OSError:
        return
    for entry in entries:
        if not (entry.startswith(".") and entry.endswith(".tmp")):
            continue
        parts = entry[1:-4].rsplit(".", 2)  # name (may hold dots), pid, random part
        if len(parts) != 3 or not parts[1].isdigit() or name not in (None, parts[0]):
            continue
        if not _process_alive(int(parts[1])):
            try:
                os.unlink(os.path.join(directory, entry))
            except OSError:
                pass


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, owned by someone else
        return True
    return True


def _reason(err: OSError, directory: str) -> str:
    if err.errno == errno.ENOENT and not os.path.isdir(directory):
        return f"directory {directory} does not exist"
    if err.errno == errno.ENOTDIR:
        return f"{directory} is not a directory"
    if err.errno == errno.ENOSPC:
        return "no space left on device"
    return err.strerror or str(err)


def _mode_for(target: str) -> int:
    """The permission bits the file would have had if written with open(): the old
    file's, or 0o666 less the umask (mkstemp makes it 0o600)."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); best effort."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- load ------------------------------------------------------------------------------

def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None,
         device=None, **pickle_load_args):
    """Read a file written by `save` (or any safetensors file): Tensors come back as
    chainrule Tensors (on `device` or `map_location` when given, else the CPU), NumPy
    arrays as NumPy arrays, whole models rebuilt (Note [whole objects]), and every other
    value as it was saved. A safetensors file
    from another tool loads as a flat {name: Tensor} dict. `f` is a path or a binary
    file object; torch.load's other arguments are accepted (only weights are ever read,
    whatever `weights_only` says)."""
    device = _target_device(map_location, device)
    if hasattr(f, "read"):
        return _load_bytes(f.read(), device)
    path = os.fspath(f)
    if not os.path.exists(path):
        raise FileNotFoundError(errno.ENOENT, f"no checkpoint file at {path}", path)
    from .io import foreign  # noqa: PLC0415 - io builds on this module
    if not _is_safetensors(path) and foreign.is_foreign(path):  # torch.save file, HF folder
        return foreign.load_foreign(path, device)
    safetensors = _safetensors()
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, f"{path} is a directory, not a checkpoint",
                                path)
    arrays, metadata = _read_file(safetensors, path)
    raw = (metadata or {}).get(METADATA_KEY)
    if raw is None:  # a foreign safetensors file: its tensors, by name
        return {name: _tensor(array, device) for name, array in arrays.items()}
    try:
        header = json.loads(raw)
    except ValueError as err:
        raise LoadError(f"{path}: damaged chainrule metadata: {err}") from None
    except RecursionError:
        raise LoadError(f"{path}: damaged chainrule metadata: nested too deeply") from None
    if not isinstance(header, dict) or header.get("format") != "chainrule" \
            or type(header.get("version")) is not int or "tree" not in header:
        raise LoadError(f"{path}: damaged chainrule metadata: no format/version/tree")
    if header["version"] > FORMAT_VERSION:
        raise LoadError(f"{path} was written by a newer chainrule (checkpoint format "
                        f"{header['version']}; this version reads up to {FORMAT_VERSION}): "
                        f"upgrade chainrule to load it")
    try:
        return _Decoder(arrays, device).decode(header["tree"])
    except RecursionError:
        raise LoadError(f"{path}: damaged chainrule metadata: nested too deeply") from None
    except _Malformed as err:
        raise LoadError(f"{path}: damaged chainrule metadata: {err}") from None


def _is_safetensors(path: str) -> bool:
    """A file that starts as safetensors does: an 8-byte header length that fits the file,
    then "{". (Its first byte alone can be 0x80, as a pickle's is, for 1 length in 256.)"""
    if not os.path.isfile(path):
        return False
    with open(path, "rb") as fh:
        head = fh.read(9)
    return len(head) == 9 and head[8:9] == b"{" \
        and struct.unpack("<Q", head[:8])[0] <= os.path.getsize(path) - 8


def _target_device(map_location, device):
    """Where loaded tensors go: `device`, else a device-like `map_location` ("cpu",
    cr.device("cuda:0")); a dict or function `map_location` keeps them on the CPU,
    where they are read."""
    where = device if device is not None else map_location
    if where is None or callable(where) or isinstance(where, dict):
        return None
    return backend.normalize_device(str(where))


def _load_bytes(data: bytes, device):
    """`load` from the bytes of a checkpoint (a file object's contents)."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "checkpoint.safetensors")
        with open(path, "wb") as out:
            out.write(data)
        return load(path, device=device)


def _read_file(safetensors, path: str):
    def foreign(detail):
        return LoadError(f"{path} is not a chainrule/safetensors checkpoint "
                         f"(truncated or foreign file): {detail}")

    try:
        with safetensors.safe_open(path, framework="np") as f:
            metadata = f.metadata()
            arrays = {}
            for name in f.keys():
                dtype = f.get_slice(name).get_dtype()
                arrays[name] = _read_bfloat16(path, name) if dtype == "BF16" \
                    else _get_tensor(f, name, dtype, path)
    except LoadError:
        raise
    except OSError:
        raise
    except Exception as err:  # safetensors' SafetensorError, and what it lets through
        raise foreign(str(err)) from None
    return arrays, metadata


def _get_tensor(f, name: str, dtype: str, path: str) -> numpy.ndarray:
    try:
        return f.get_tensor(name)
    except TypeError:  # a dtype NumPy has no type for (float8 ...)
        raise LoadError(f"{path}: tensor {name!r} has dtype {dtype}, which NumPy cannot "
                        f"hold; convert it to float32 before saving") from None


def _read_bfloat16(path: str, name: str) -> numpy.ndarray:
    """NumPy has no bfloat16: read the raw bits and widen them to float32 (exact)."""
    with open(path, "rb") as fh:
        (header_len,) = struct.unpack("<Q", fh.read(8))
        entry = json.loads(fh.read(header_len))[name]
        begin, end = entry["data_offsets"]
        fh.seek(8 + header_len + begin)
        raw = fh.read(end - begin)
    bits = numpy.frombuffer(raw, dtype="<u2").astype(numpy.uint32) << 16
    return bits.view(numpy.float32).reshape(entry["shape"])


def _tensor(array: numpy.ndarray, device) -> Tensor:
    if device is not None:
        array = backend.to_device(array, device)
    return Tensor._wrap(array)


class _Malformed(Exception):
    pass


class _Decoder:
    def __init__(self, arrays: dict, device):
        self.arrays = arrays
        self.device = device
        self._on_device: dict[str, object] = {}
        self._tensors: dict[str, Tensor] = {}  # a tensor named twice comes back as one
        self._objects: dict[int, object] = {}  # whole objects by their number in the file

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            raise _Malformed("a bare JSON list in the tree")
        if not isinstance(node, dict) or not isinstance(node.get("t"), str):
            raise _Malformed(f"unexpected node {node!r:.80}")
        kind = node["t"]
        try:
            if kind == "tensor":
                name = node["k"]
                if name not in self._tensors:
                    self._tensors[name] = Tensor._wrap(self._array(name, self.device))
                return self._tensors[name]
            if kind == "ndarray":
                return self._array(node["k"], None)
            if kind == "dict":
                if "v" in node:
                    pairs = [(k, self.decode(v)) for k, v in _expect(node["v"], dict).items()]
                else:
                    pairs = [(self.decode(k), self.decode(v))
                             for k, v in (_expect(item, list, 2)
                                          for item in _expect(node["items"], list))]
                if "default" in node:
                    return defaultdict(_DEFAULTS[_expect(node["default"], str)], pairs)
                return (OrderedDict if node.get("ordered") else dict)(pairs)
            if kind == "list":
                return [self.decode(v) for v in _expect(node["v"], list)]
            if kind == "tuple":
                return tuple(self.decode(v) for v in _expect(node["v"], list))
            if kind == "set":
                return {self.decode(v) for v in _expect(node["v"], list)}
            if kind == "object":
                return self._whole(node)
            if kind == "same":
                number = _expect(node["id"], int)
                if number not in self._objects:
                    raise _Malformed(f"a reference to object {number} before it is made")
                return self._objects[number]
            if kind == "int":
                return int(_expect(node["v"], str))
            if kind == "float":
                return float(_expect(node["v"], str))
            if kind == "npscalar":
                dtype = numpy.dtype(_expect(node["dtype"], str))
                if dtype not in _STORABLE_DTYPES:
                    raise _Malformed(f"NumPy scalar of dtype {dtype}")
                return dtype.type(self.decode(node["v"]))
            if kind == "dtype":
                return numpy.dtype(_expect(node["v"], str))
            if kind == "device":
                return Device(_expect(node["v"], str))
        except (KeyError, TypeError, ValueError) as err:
            raise _Malformed(f"bad {kind!r} node ({type(err).__name__}: {err})") from None
        raise _Malformed(f"unknown node type {kind!r}")

    def _whole(self, node):
        codec = _codecs.get(node["codec"])
        if codec is None:
            raise LoadError(f"the checkpoint holds a whole object of kind {node['codec']!r}, "
                            f"which this chainrule cannot rebuild")
        number, where = _expect(node["id"], int), _expect(node["class"], str)
        if hasattr(codec, "create"):  # made first: its attributes may lead back to it
            self._objects[number] = obj = codec.create(where)
            codec.fill(obj, self.decode(node["v"]))
        else:
            self._objects[number] = obj = codec.rebuild(where, self.decode(node["v"]))
        return obj

    def _array(self, name, device):
        if not isinstance(name, str) or name not in self.arrays:
            raise _Malformed(f"the tree names tensor {name!r}, which the file does not hold")
        array = self.arrays[name]
        if device is None:
            return array
        if name not in self._on_device:  # shared tensors stay shared on the device too
            self._on_device[name] = backend.to_device(array, device)
        return self._on_device[name]


def _expect(value, kind, length: int | None = None):
    if not isinstance(value, kind) or (length is not None and len(value) != length):
        raise TypeError(f"expected {kind.__name__}"
                        + (f" of length {length}" if length is not None else "")
                        + f", got {value!r:.60}")
    return value
