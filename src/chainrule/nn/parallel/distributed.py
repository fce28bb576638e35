"""`DistributedDataParallel`: one model replicated on every rank, gradients averaged.

Each rank runs the same model on its own share of the batch. After backward every rank
must hold the same gradient, the average of all ranks' gradients,

    grad = (1/N) · Σ_r grad_r          (N ranks; with each rank's loss a mean over its
                                        share, this is the gradient of the mean over the
                                        whole batch)

so that the same optimizer step keeps the replicas identical. The averaging is an MPI
allreduce, and it is started during backward, not after it:

* The parameters are grouped into buckets in the reverse of their registration order,
  which is roughly the order backward finishes them (the last layer's gradient first).
  The first bucket is small (1 MB) so that sending starts early; the others hold up to
  `bucket_cap_mb`.
* Each parameter has a post-accumulate-grad hook: when the engine has put the pass's
  whole gradient into `.grad`, the hook counts it off its bucket. A bucket whose last
  gradient arrived is copied into one flat buffer, divided by N and sent with a
  non-blocking allreduce, while backward goes on to the earlier layers.
* Buckets are sent strictly in order (bucket k only after bucket k-1), so every rank
  calls the collectives in the same sequence. The hook of the last gradient waits for all
  buckets and copies the averages back into `.grad`: when `backward()` returns, the
  gradients are averaged and `optimizer.step()` runs as in one process.

A row-sparse gradient (`Embedding(sparse=True)`) is not spread into a dense table: each
rank's rows and their values are gathered from every rank and summed row by row.

`no_sync()` skips the averaging for the backward passes of forwards run inside it
(gradient accumulation); the next synchronised backward averages the summed gradients.
The initial parameters and buffers are broadcast from rank 0 when the wrapper is made,
and with `broadcast_buffers` (the default) buffers such as BatchNorm's running statistics
are broadcast from rank 0 before every training forward, as in PyTorch.
"""
from __future__ import annotations

import contextlib
import time

import numpy

from ... import backend
from ...autograd import grad_mode
from ...distributed import collectives
from ...distributed import group as groups
from ...sparse import RowSparseTensor
from ...tensor import Tensor
from ..module import Module

FIRST_BUCKET_MB = 1.0


class _Bucket:
    """Parameters whose gradients travel together in one flat buffer (or one sparse
    gradient on its own)."""

    def __init__(self, params: list, sparse: bool):
        self.params = params
        self.sparse = sparse
        self.waiting = len(params)  # gradients of this backward not yet final
        self.work = None
        self.buffer = None
        if not sparse:
            sizes = [p.numel() for p in params]
            self.offsets = numpy.cumsum([0] + sizes)
            self.buffer = numpy.zeros(int(self.offsets[-1]), dtype=params[0].dtype)


class DistributedDataParallel(Module):
    """`DistributedDataParallel(module)`: `module`'s gradients averaged over the ranks of
    the default process group (PyTorch's arguments; `device_ids`, `output_device`, `dim`
    and `static_graph` are accepted and have nothing to do here)."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, process_group=None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: expected a Module, got "
                            f"{type(module).__name__}")
        self.module = module
        self.process_group = groups.resolve(process_group)
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.bucket_cap_mb = 25.0 if bucket_cap_mb is None else float(bucket_cap_mb)
        self._params = [p for p in module.parameters() if p.requires_grad]
        if len({id(p) for p in self._params}) != len(self._params):
            raise ValueError("DistributedDataParallel: the module lists a parameter twice")
        self._sync_module_state()
        self._buckets = self._make_buckets(_sparse_parameters(module))
        self._bucket_of = {id(p): b for b in self._buckets for p in b.params}
        self._syncing = False   # does the current backward average gradients?
        self._next = 0          # the next bucket to send
        self._backward_started = False
        self._ready = set()     # ids of the parameters whose gradient is final
        # seconds this rank spent filling buckets, starting allreduces and waiting for them
        # (the communication backward did not hide; `chainrule bench` reports it)
        self.communication_seconds = 0.0
        self._handles = [p.register_post_accumulate_grad_hook(self._gradient_ready)
                         for p in self._params]

    # --- forward -------------------------------------------------------------------------
    def forward(self, *inputs, **kwargs):
        if self._syncing and self._backward_started:
            raise RuntimeError(self._unfinished_message())
        if self.broadcast_buffers and self.training:
            self._broadcast(list(self.module.buffers()))
        output = self.module(*inputs, **kwargs)
        self._syncing = self.require_backward_grad_sync and grad_mode.is_grad_enabled()
        if self._syncing:
            for bucket in self._buckets:
                bucket.waiting = len(bucket.params)
            self._next = 0
            self._backward_started = False
            self._ready = set()
            if self.find_unused_parameters:
                used = _leaves_reached(output)
                for p in self._params:
                    if id(p) not in used:
                        self._count_off(p)
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Forwards run inside skip the averaging in their backward: gradients add up
        locally (gradient accumulation) until a backward outside the block."""
        previous, self.require_backward_grad_sync = self.require_backward_grad_sync, False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # --- backward: the hooks -------------------------------------------------------------
    def _gradient_ready(self, param) -> None:
        """The post-accumulate-grad hook of every parameter."""
        if self._syncing:
            self._backward_started = True
            self._count_off(param)

    def _count_off(self, param) -> None:
        """`param`'s gradient is final: send every bucket that is complete, in order."""
        self._bucket_of[id(param)].waiting -= 1
        self._ready.add(id(param))
        started = time.perf_counter()
        while self._next < len(self._buckets) and self._buckets[self._next].waiting == 0:
            self._send(self._buckets[self._next])
            self._next += 1
        for bucket in self._buckets[:self._next]:
            bucket.work.is_completed()  # MPI moves messages forward only inside its calls
        if self._next == len(self._buckets):
            for bucket in self._buckets:
                bucket.work.wait()
            self._syncing = False
        self.communication_seconds += time.perf_counter() - started

    def _send(self, bucket: _Bucket) -> None:
        """Start averaging one bucket: a non-blocking allreduce of the flat gradients."""
        world = self.process_group.size()
        if bucket.sparse:
            bucket.work = _gather_sparse(bucket.params[0], self.process_group)
            return
        buffer = bucket.buffer
        for p, start, stop in zip(bucket.params, bucket.offsets, bucket.offsets[1:]):
            if p.grad is None:  # unused in this forward (find_unused_parameters)
                buffer[start:stop] = 0
            else:  # (a sparse gradient from a functional embedding is averaged densely)
                grad = p.grad.to_dense() if p.grad.is_sparse else p.grad
                buffer[start:stop] = backend.to_device(grad.array, "cpu").reshape(-1)
        buffer *= buffer.dtype.type(1.0 / world)
        request = self.process_group.comm.Iallreduce(_mpi_in_place(), buffer)
        bucket.work = collectives.Work([request], self.process_group,
                                       "DistributedDataParallel: gradient allreduce",
                                       lambda: _unflatten(bucket))

    def _unfinished_message(self) -> str:
        missing = [name for name, p in self.module.named_parameters()
                   if p.requires_grad and id(p) not in self._ready]
        return ("DistributedDataParallel: the previous backward did not average every "
                "gradient before this forward: no gradient reached "
                f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}; pass "
                "find_unused_parameters=True if the model leaves parameters out of a forward")

    # --- setup ---------------------------------------------------------------------------
    def _make_buckets(self, sparse_ids: set) -> list:
        """Parameters in reverse order, grouped by dtype up to the bucket size; a sparse
        gradient's parameter alone in its bucket."""
        buckets, current, current_bytes = [], [], 0
        cap = min(FIRST_BUCKET_MB, self.bucket_cap_mb) * 2 ** 20
        for p in reversed(self._params):
            if id(p) in sparse_ids:
                buckets.append(_Bucket([p], sparse=True))
                continue
            size = p.numel() * p.dtype.itemsize
            if current and (current_bytes + size > cap or p.dtype != current[0].dtype):
                buckets.append(_Bucket(current, sparse=False))
                current, current_bytes, cap = [], 0, self.bucket_cap_mb * 2 ** 20
            current.append(p)
            current_bytes += size
        if current:
            buckets.append(_Bucket(current, sparse=False))
        return buckets

    def _sync_module_state(self) -> None:
        """Every rank starts from rank 0's parameters and buffers."""
        self._broadcast(list(self.module.parameters()) + list(self.module.buffers()))

    def _broadcast(self, tensors) -> None:
        if self.process_group.size() > 1:
            for t in tensors:
                if t is not None:
                    collectives.broadcast(t, src=0, group=self.process_group)

    def __repr__(self) -> str:
        return f"DistributedDataParallel(\n  (module): {self.module!r}\n)"


def _unflatten(bucket: _Bucket) -> None:
    """Averaged values back into each parameter's `.grad`."""
    for p, start, stop in zip(bucket.params, bucket.offsets, bucket.offsets[1:]):
        values = bucket.buffer[start:stop].reshape(p.shape)
        if p.grad is None and not values.any():
            continue  # unused on every rank: left without a gradient
        if p.grad is None or p.grad.is_sparse:
            p.grad = Tensor._wrap(backend.to_device(values.copy(), p.device))
        else:
            p.grad.array[...] = backend.to_device(values, p.device)


def _gather_sparse(param, group) -> collectives.Work:
    """A row-sparse gradient averaged by gathering every rank's rows (their number differs
    from rank to rank), then summing equal rows: no dense (V, D) table is ever sent."""
    grad = param.grad
    if grad is None:
        grad = RowSparseTensor.no_rows(param.shape, param.array)
    elif not grad.is_sparse:
        grad = RowSparseTensor(backend.xp(grad.array).arange(param.shape[0]), grad.array,
                               param.shape)
    indices = collectives.all_gather_rows(grad.indices().array.reshape(-1), group)
    values = collectives.all_gather_rows(grad.values().array, group)
    values *= values.dtype.type(1.0 / group.size())
    param.grad = RowSparseTensor.from_rows(backend.to_device(indices, param.device),
                                           backend.to_device(values, param.device), param.shape)
    return collectives.Work([], group, "DistributedDataParallel: sparse gradient gather")


def _sparse_parameters(module: Module) -> set:
    """Parameters whose gradient will be row-sparse (embeddings made with sparse=True)."""
    return {id(m.weight) for m in module.modules() if getattr(m, "sparse", False) is True
            and getattr(m, "weight", None) is not None}


def _leaves_reached(output) -> set:
    """ids of the leaf tensors the graph of `output` reads (find_unused_parameters)."""
    stack = [t.grad_fn for t in _tensors_in(output) if t.grad_fn is not None]
    seen, leaves = set(), set()
    while stack:
        node = stack.pop()
        if node in seen or node.inputs is None:
            continue
        seen.add(node)
        for t in node.inputs:
            if t.grad_fn is None:
                leaves.add(id(t))
            else:
                stack.append(t.grad_fn)
    return leaves


def _tensors_in(output) -> list:
    if isinstance(output, Tensor):
        return [output]
    if isinstance(output, dict):
        output = list(output.values())
    if isinstance(output, (list, tuple)):
        return [t for item in output for t in _tensors_in(item)]
    return []


def _mpi_in_place():
    from mpi4py import MPI
    return MPI.IN_PLACE
