"""Read PyTorch checkpoints (`torch.save` files) without PyTorch and without running code.

    state = cr.load("model.pt")          # dispatches here by the file's first bytes
    model.load_state_dict(state)

Two layouts exist:

- the zip archive (PyTorch >= 1.6): `ARCHIVE/data.pkl` is a pickle of the object, where
  each tensor is `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)` and
  each storage a persistent id `("storage", torch.FloatStorage, "KEY", "cpu", numel)`
  whose raw little-endian bytes are the entry `ARCHIVE/data/KEY`;
- the legacy stream (`_use_new_zipfile_serialization=False`): pickles one after the
  other -- a magic number, a protocol version, system info, the object, the list of
  storage keys -- then each storage as an int64 element count and its bytes.

The pickles go through `RestrictedUnpickler`, which knows only the globals below, so what
comes back is what PyTorch's weights-only loading gives: tensors (as chainrule Tensors),
OrderedDicts and plain containers. Any other global is refused in one line naming it.
Sizes are checked before bytes are read: a storage must hold exactly the bytes its id
claims, a tensor's view must lie inside its storage, and storage entries must be stored
uncompressed (as `torch.save` writes them), so a small file cannot claim gigabytes.

bfloat16, which NumPy cannot hold, is widened to float32 (exact: a bfloat16 is the top
half of a float32); complex, quantized, float8 and uint16-64 tensors are refused with a
clear error naming the dtype.
"""
from __future__ import annotations

import io
import os
import zipfile
from collections import OrderedDict

import numpy

from ..serialize import LoadError
from ..tensor import Tensor
from .unpickler import RestrictedUnpickler, UnpicklingRefused

__all__ = ["load_torch_checkpoint", "is_torch_checkpoint", "UnsafeCheckpointError"]

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C   # the first pickle of a legacy torch.save stream
LEGACY_PROTOCOL = 1001
ZIP_MAGIC = b"PK\x03\x04"
MAX_PICKLE_BYTES = 64 * 1024 * 1024      # data.pkl of a state dict is kilobytes
BFLOAT16 = "bfloat16"

# torch.<Name>Storage -> the NumPy dtype of its elements (little-endian, as on disk)
STORAGE_DTYPES = {
    "DoubleStorage": "<f8", "FloatStorage": "<f4", "HalfStorage": "<f2",
    "BFloat16Storage": BFLOAT16, "LongStorage": "<i8", "IntStorage": "<i4",
    "ShortStorage": "<i2", "CharStorage": "i1", "ByteStorage": "u1", "BoolStorage": "?",
    "UntypedStorage": "u1",
}
# Tensors of the dtypes the old storage classes cannot name are saved through
# _rebuild_tensor_v3 over a byte storage; chainrule holds none of them.
V3_DTYPES = ("uint16", "uint32", "uint64", "complex32", "float8_e4m3fn", "float8_e5m2",
             "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2",
             "bits8", "bits16", "bits1x8", "bits2x4", "bits4x2")
UNSUPPORTED_STORAGES = ("ComplexFloatStorage", "ComplexDoubleStorage", "QInt8Storage",
                        "QUInt8Storage", "QInt32Storage", "QUInt4x2Storage",
                        "QUInt2x4Storage", "Float8_e4m3fnStorage", "Float8_e5m2Storage",
                        "Float8_e4m3fnuzStorage", "Float8_e5m2fnuzStorage")


class UnsafeCheckpointError(LoadError):
    """The checkpoint asks to run or build something other than tensors and containers."""


class _StorageType:
    """What `torch.FloatStorage` & co. stand for here: the element dtype, nothing callable."""

    def __init__(self, name: str):
        self.name = name
        self.dtype = STORAGE_DTYPES.get(name)

    def __repr__(self) -> str:
        return f"torch.{self.name}"


class _Storages:
    """Raw storage bytes by key, read on demand and checked against the size claimed."""

    def __init__(self, path: str, read_bytes, big_endian: bool = False):
        self.path = path
        self.read_bytes = read_bytes      # (key, nbytes) -> bytes
        self.big_endian = big_endian
        self.arrays: dict[str, numpy.ndarray] = {}

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise LoadError(f"{self.path}: unexpected persistent id {pid!r:.80} "
                            "(not a tensor storage)")
        storage_type, key, _location, numel = pid[1:5]
        if not isinstance(storage_type, _StorageType):
            raise LoadError(f"{self.path}: storage {key!r} has no storage type")
        if storage_type.dtype is None:
            raise LoadError(f"{self.path}: storage {key!r} is a torch.{storage_type.name}, "
                            "which NumPy cannot hold; convert the tensors to float32 first")
        if not isinstance(numel, int) or numel < 0:
            raise LoadError(f"{self.path}: storage {key!r} claims {numel!r} elements")
        key = str(key)
        if key not in self.arrays:
            self.arrays[key] = self._read(key, storage_type.dtype, numel)
        return self.arrays[key]

    def _read(self, key: str, dtype: str, numel: int) -> numpy.ndarray:
        disk = numpy.dtype("<u2" if dtype == BFLOAT16 else dtype)
        if self.big_endian:
            disk = disk.newbyteorder(">")
        raw = self.read_bytes(key, numel * disk.itemsize)
        array = numpy.frombuffer(raw, dtype=disk)
        if dtype == BFLOAT16:  # bfloat16 bits are the top 16 bits of a float32
            return (array.astype(numpy.uint32) << 16).view(numpy.float32)
        return array.astype(disk.newbyteorder("="), copy=False)


# --- what the pickle may call ------------------------------------------------------------
def _rebuild_tensor(storage, offset, size, stride, *_ignored) -> Tensor:
    """torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
    backward_hooks[, metadata]): the strided view of `storage` as a tensor of its own."""
    if not isinstance(storage, numpy.ndarray):
        raise LoadError(f"a tensor's storage is a {type(storage).__name__}, not a storage")
    size, stride = _int_tuple(size, "size"), _int_tuple(stride, "stride")
    if not isinstance(offset, int) or offset < 0 or len(size) != len(stride) \
            or any(s < 0 for s in size + stride):
        raise LoadError(f"a tensor has a malformed view: offset {offset!r}, size {size}, "
                        f"stride {stride}")
    if 0 not in size:
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= storage.size:
            raise LoadError(f"a tensor of size {size} (stride {stride}, offset {offset}) "
                            f"reaches element {last} of a storage of {storage.size}: the "
                            "checkpoint's sizes lie")
    view = numpy.lib.stride_tricks.as_strided(
        storage[offset:] if storage.size else storage, shape=size,
        strides=tuple(s * storage.itemsize for s in stride))
    return Tensor._wrap(numpy.array(view))  # a copy of its own: storages may be shared


class _TorchDType:
    """What `torch.uint16` & co. stand for here: a name, nothing callable."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"


def _rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype, *_):
    """torch._utils._rebuild_tensor_v3: a tensor of a dtype chainrule cannot hold."""
    raise LoadError(f"a tensor of dtype {dtype!r}, which chainrule cannot hold; convert "
                    "it to float32 or int64 before saving")


def _rebuild_parameter(data, requires_grad=False, *_ignored) -> Tensor:
    """torch._utils._rebuild_parameter(data, requires_grad, backward_hooks[, state])."""
    if not isinstance(data, Tensor):
        raise LoadError(f"a parameter's data is a {type(data).__name__}, not a tensor")
    return data


def _encode(text, encoding="utf-8"):
    """_codecs.encode: how protocol-2 pickles write bytes (as latin-1 text)."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8"):
        raise LoadError(f"_codecs.encode called with {type(text).__name__}, {encoding!r}")
    return text.encode(encoding)


def _int_tuple(value, what: str) -> tuple:
    if not isinstance(value, tuple) or not all(type(v) is int for v in value):
        raise LoadError(f"a tensor's {what} is {value!r:.60}, not a tuple of ints")
    return value


def _nothing(*_args) -> None:
    """A tensor while the legacy reader only collects storage claims (see _load_legacy)."""


def _allowed_globals(tensors: bool = True) -> dict:
    rebuild = _rebuild_tensor if tensors else _nothing
    parameter = _rebuild_parameter if tensors else _nothing
    allowed = {
        "collections.OrderedDict": OrderedDict,
        "torch._utils._rebuild_tensor": rebuild,
        "torch._utils._rebuild_tensor_v2": rebuild,
        "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3 if tensors else _nothing,
        "torch._utils._rebuild_parameter": parameter,
        "torch._utils._rebuild_parameter_with_state": parameter,
        "torch.Size": tuple,
        "_codecs.encode": _encode,
    }
    for name in (*STORAGE_DTYPES, *UNSUPPORTED_STORAGES):
        allowed[f"torch.{name}"] = _StorageType(name)
    allowed["torch.storage.UntypedStorage"] = allowed.pop("torch.UntypedStorage")
    for name in V3_DTYPES:
        allowed[f"torch.{name}"] = _TorchDType(name)
    return allowed


def _set_state(obj, state) -> None:
    """BUILD: an OrderedDict state dict carries `_metadata` (module versions); keep that,
    and nothing else."""
    if not isinstance(obj, OrderedDict) or not isinstance(state, dict):
        raise UnpicklingRefused(f"BUILD on a {type(obj).__name__} is not allowed")
    if "_metadata" in state:
        obj._metadata = state["_metadata"]


def _unpickle(path: str, stream, persistent_load=None, tensors: bool = True):
    unpickler = RestrictedUnpickler(_allowed_globals(tensors), persistent_load, _set_state)
    try:
        return unpickler.load(stream)
    except UnpicklingRefused as err:
        raise UnsafeCheckpointError(f"{path}: {err}") from None
    except LoadError as err:
        raise err if str(err).startswith(path) else LoadError(f"{path}: {err}") from None
    except ValueError as err:  # genops: truncated data, bad opcode bytes
        raise LoadError(f"{path}: damaged or truncated pickle ({err})") from None


# --- the two layouts -----------------------------------------------------------------------
def is_torch_checkpoint(path) -> bool:
    """Whether `path` starts like a torch.save file (a zip archive or a pickle stream)."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    return head == ZIP_MAGIC or head[:1] == b"\x80"


def load_torch_checkpoint(path):
    """The object `torch.save` wrote to `path` (a state dict, usually), with chainrule
    Tensors in place of torch tensors. Never imports torch, never runs the file's code."""
    path = os.fspath(path)
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head == ZIP_MAGIC:
        return _load_zip(path)
    if head[:1] == b"\x80":
        return _load_legacy(path)
    raise LoadError(f"{path} is not a PyTorch checkpoint (neither a zip archive nor a "
                    "pickle stream)")


def _load_zip(path: str):
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise LoadError(f"{path}: truncated or damaged PyTorch zip archive ({err})") from None
    with archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
        if not pickles:
            raise LoadError(f"{path}: a zip archive without data.pkl is not a PyTorch "
                            "checkpoint")
        prefix = pickles[0][: -len("data.pkl")]
        big_endian = _read_entry(archive, path, prefix + "byteorder", 16,
                                 missing=b"little").strip() == b"big"

        def storage_bytes(key: str, nbytes: int) -> bytes:
            name = f"{prefix}data/{key}"
            info = _entry(archive, path, name)
            if info.compress_type != zipfile.ZIP_STORED:
                raise LoadError(f"{path}: storage {name} is compressed; torch.save stores "
                                "storages uncompressed (refusing a possible zip bomb)")
            if info.file_size != nbytes:
                raise LoadError(f"{path}: storage {name} holds {info.file_size} bytes but "
                                f"the pickle claims {nbytes}: the checkpoint's sizes lie")
            return _read_entry(archive, path, name, nbytes)

        data = _read_entry(archive, path, pickles[0], MAX_PICKLE_BYTES)
        storages = _Storages(path, storage_bytes, big_endian)
        return _unpickle(path, io.BytesIO(data), storages.persistent_load)


def _entry(archive: zipfile.ZipFile, path: str, name: str) -> zipfile.ZipInfo:
    try:
        return archive.getinfo(name)
    except KeyError:
        raise LoadError(f"{path}: the archive has no entry {name} (truncated?)") from None


def _read_entry(archive, path: str, name: str, limit: int, missing=None) -> bytes:
    """At most `limit` bytes of an entry, however large it claims to be."""
    if missing is not None and name not in archive.namelist():
        return missing
    info = _entry(archive, path, name)
    if info.file_size > limit:
        raise LoadError(f"{path}: entry {name} claims {info.file_size} bytes, more than "
                        f"the {limit} allowed")
    try:
        with archive.open(info) as entry:
            data = entry.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as err:
        raise LoadError(f"{path}: cannot read {name}: truncated or damaged archive "
                        f"({err})") from None
    if len(data) != info.file_size:
        raise LoadError(f"{path}: entry {name} holds {len(data)} bytes, not the "
                        f"{info.file_size} it claims")
    return data


def _load_legacy(path: str):
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        if _unpickle(path, fh) != LEGACY_MAGIC:
            raise LoadError(f"{path} is a pickle but not a PyTorch checkpoint (no torch.save "
                            "magic number); chainrule does not load arbitrary pickles")
        if _unpickle(path, fh) != LEGACY_PROTOCOL:
            raise LoadError(f"{path}: unsupported legacy torch.save protocol")
        info = _unpickle(path, fh)
        big_endian = isinstance(info, dict) and info.get("little_endian") is False
        start = fh.tell()
        # The storages' bytes follow the object's pickle, so a first walk only collects
        # which storages it names (key -> dtype, element count) and builds no tensor.
        claims: dict[str, tuple] = {}

        def claim(pid):
            if isinstance(pid, tuple) and len(pid) >= 5 and isinstance(pid[1], _StorageType):
                claims[str(pid[2])] = (pid[1].dtype, pid[4])
            return None

        _unpickle(path, fh, claim, tensors=False)
        end = fh.tell()
        keys = _unpickle(path, fh)
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise LoadError(f"{path}: damaged legacy checkpoint (its storage key list)")
        offsets = {}
        for key in keys:
            count = int(numpy.frombuffer(_read_exactly(fh, 8, path), "<i8")[0])
            dtype, numel = claims.get(key, (None, None))
            itemsize = 2 if dtype == BFLOAT16 else numpy.dtype(dtype or "u1").itemsize
            if count != numel or fh.tell() + count * itemsize > size:
                raise LoadError(f"{path}: storage {key} holds {count} elements but the "
                                f"pickle claims {numel} (in a file of {size} bytes): the "
                                "checkpoint's sizes lie")
            offsets[key] = fh.tell()
            fh.seek(count * itemsize, io.SEEK_CUR)

        def storage_bytes(key: str, nbytes: int) -> bytes:
            if key not in offsets:
                raise LoadError(f"{path}: storage {key} is missing from the file")
            fh.seek(offsets[key])
            return _read_exactly(fh, nbytes, path)

        fh.seek(start)
        pickled = io.BytesIO(_read_exactly(fh, end - start, path))
        storages = _Storages(path, storage_bytes, big_endian)
        return _unpickle(path, pickled, storages.persistent_load)


def _read_exactly(fh, nbytes: int, path: str) -> bytes:
    data = fh.read(nbytes)
    if len(data) != nbytes:
        raise LoadError(f"{path}: truncated checkpoint ({nbytes} bytes expected, "
                        f"{len(data)} left)")
    return data
