"""The process group: which processes train together, and this one's place among them.

`mpirun -n 4 python train.py` starts four copies of a program; `init_process_group()` in
each joins them into one group of `world_size` 4, numbered by `rank` 0..3. MPI (through
mpi4py) carries every message; the group holds a private duplicate of MPI's world
communicator, so a user's own MPI calls never mix with chainrule's.

Who started the processes is read from the environment: Open MPI's `mpirun` sets
`OMPI_COMM_WORLD_RANK`/`OMPI_COMM_WORLD_SIZE`, MPICH and Intel MPI set `PMI_RANK`/
`PMI_SIZE`, a torchrun-style launcher `RANK`/`WORLD_SIZE`. With backend "mpi" MPI itself
says the rank and size; the environment is checked against it, so a program started by a
launcher that MPI does not know about fails with a clear message instead of training
alone on one process while it believes it has company.
"""
from __future__ import annotations

import os

# PyTorch programs name "gloo" (CPU) or "nccl" (GPU): the same collectives, carried by MPI
BACKENDS = ("mpi", "gloo", "nccl")
DEFAULT_TIMEOUT_SECONDS = 1800.0  # PyTorch's default for collectives: 30 minutes

# (variable giving the rank, variable giving the world size, the launcher's name)
LAUNCHERS = (("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "Open MPI's mpirun"),
             ("PMI_RANK", "PMI_SIZE", "an MPICH-style mpirun"),
             ("PMIX_RANK", "PMIX_SIZE", "a PMIx launcher"),
             ("RANK", "WORLD_SIZE", "a torchrun-style launcher"))


class ProcessGroup:
    """A set of ranks that run collectives together (the default one spans every process)."""

    def __init__(self, comm, timeout: float):
        self.comm = comm
        self.timeout = timeout

    def rank(self) -> int:
        return self.comm.Get_rank()

    def size(self) -> int:
        return self.comm.Get_size()

    def __repr__(self) -> str:
        return f"ProcessGroup(backend='mpi', rank={self.rank()}, world_size={self.size()})"


_default: ProcessGroup | None = None


def is_available() -> bool:
    """Whether the MPI backend can be used (mpi4py imports)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def is_mpi_available() -> bool:
    return is_available()


def is_initialized() -> bool:
    return _default is not None


def launched_world_size() -> int:
    """How many processes the launcher says it started (1 when none did)."""
    for _, size_name, _ in LAUNCHERS:
        if os.environ.get(size_name):
            return int(os.environ[size_name])
    return 1


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout=None, world_size: int = -1, rank: int = -1, store=None,
                       group_name: str = "", pg_options=None, device_id=None) -> None:
    """Join this process to the default group (PyTorch's signature). Every backend is MPI:
    "gloo" and "nccl", which PyTorch programs name, are accepted and carried by MPI too.

    `timeout` (seconds or a `datetime.timedelta`) bounds every collective: a rank that
    waits longer for its peers raises instead of hanging. `world_size`/`rank`, when given,
    must agree with what MPI reports. `init_method` (env://, tcp://...) is not needed:
    MPI's launcher has connected the ranks already."""
    global _default
    if _default is not None:
        raise RuntimeError("init_process_group: the default process group is already "
                           "initialized (call destroy_process_group() first)")
    backend = (backend or "mpi").lower().split(":")[-1]  # ("cpu:gloo,cuda:nccl" too)
    if backend not in BACKENDS:
        raise ValueError(f"init_process_group: backend {backend!r} is not available in "
                         f"chainrule; use backend='mpi' (start the ranks with mpirun)")
    if not is_available():
        raise RuntimeError("init_process_group: backend 'mpi' needs mpi4py and an MPI "
                           "library: pip install 'chainrule[mpi]'")
    from mpi4py import MPI
    comm = MPI.COMM_WORLD.Dup()
    _check_agrees(comm.Get_rank(), comm.Get_size(), rank, world_size)
    _default = ProcessGroup(comm, _seconds(timeout))


def _check_agrees(mpi_rank: int, mpi_size: int, rank: int, world_size: int) -> None:
    """Fail when the arguments or the launcher's variables disagree with MPI's view."""
    claims = [("world_size", world_size, mpi_size), ("rank", rank, mpi_rank)]
    for rank_name, size_name, launcher in LAUNCHERS:
        if os.environ.get(size_name):
            claims.append((f"{size_name} (set by {launcher})", int(os.environ[size_name]),
                           mpi_size))
            claims.append((f"{rank_name} (set by {launcher})",
                           int(os.environ.get(rank_name, mpi_rank)), mpi_rank))
    for name, claimed, actual in claims:
        if claimed not in (-1, None) and claimed != actual:
            raise RuntimeError(
                f"init_process_group: {name} is {claimed} but MPI sees this process as rank "
                f"{mpi_rank} of {mpi_size}; with backend 'mpi' start every rank with "
                f"`mpirun -n N`")


def _seconds(timeout) -> float:
    if timeout is None:
        return DEFAULT_TIMEOUT_SECONDS
    seconds = timeout.total_seconds() if hasattr(timeout, "total_seconds") else float(timeout)
    if seconds <= 0:
        raise ValueError(f"init_process_group: timeout must be positive, got {timeout!r}")
    return seconds


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Leave the default group (MPI itself is finalized when the process exits)."""
    global _default
    if _default is not None and group in (None, _default):
        _default.comm.Free()
        _default = None


def default_group() -> ProcessGroup:
    if _default is None:
        raise RuntimeError("chainrule.distributed: the default process group is not "
                           "initialized; call chainrule.distributed.init_process_group() first")
    return _default


def resolve(group: ProcessGroup | None) -> ProcessGroup:
    return default_group() if group is None else group


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's number in the group, 0..world_size-1 (PyTorch: -1 outside a group is
    an error; here as there, initialize first)."""
    return resolve(group).rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    return resolve(group).size()


def get_backend(group: ProcessGroup | None = None) -> str:
    resolve(group)
    return "mpi"
