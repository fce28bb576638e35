"""What changes when `mpirun -n N chainrule train` starts N copies of the training run.

Every rank builds the same model, reads the same data and draws the same shuffled order
(the seeds are the same), so the ranks agree on every global batch without talking. Each
rank then takes its contiguous share of each batch (sizes differ by at most one), and
DistributedDataParallel averages the gradients. Each rank's loss is weighted by
N · (its share) / (batch size) before backward, so that the average is the gradient of the
mean loss over the whole batch even when the batch does not split evenly: the run follows
the same path as one process with the same `--batch-size`, whatever N is. That is what
lets `--resume` continue a checkpoint with a different number of ranks. BatchNorm layers
become SyncBatchNorm for the same reason (statistics over the whole batch).

Rank 0 alone prints, draws progress bars and writes files (the checkpoint, the model
file, the run folder's logs); epoch metrics are sums over all ranks. A rank that fails
prints its error (naming its rank) and aborts the job, so no rank waits forever for it;
when `mpirun` stops the job because a rank died, rank 0 says so and names the checkpoint
to resume from.
"""
from __future__ import annotations

import os
import signal
import sys

import numpy

from .. import distributed as dist
from ..distributed.collectives import all_gather_rows
from ..nn import SyncBatchNorm
from ..nn.parallel import DistributedDataParallel
from ..tensor import Tensor

# A rank waits this long for the others in any one collective before it gives up: far
# longer than any step, evaluation or checkpoint write takes, and still bounded.
COLLECTIVE_TIMEOUT_SECONDS = 600.0
EXIT_STOPPED = 143  # 128 + SIGTERM


def launched() -> bool:
    """Whether a launcher (mpirun, or a torchrun-style one) started several ranks."""
    return dist.launched_world_size() > 1


class DataParallel:
    """The ranks of one training run: their model wrapper, shares and sums."""

    def __init__(self):
        if not dist.is_initialized():
            dist.init_process_group("mpi", timeout=COLLECTIVE_TIMEOUT_SECONDS)
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        self.checkpoint_path = None  # named in the message when the job is stopped
        self.model = None
        _stop_the_job_on_errors(self)
        if hasattr(sys.stdout, "reconfigure"):  # mpirun pipes the output: show each line now
            sys.stdout.reconfigure(line_buffering=True)

    def wrap(self, network) -> None:
        """Train `network` on every rank: rank 0's weights, BatchNorm over all ranks."""
        self.model = DistributedDataParallel(SyncBatchNorm.convert_sync_batchnorm(network))

    @property
    def leader(self) -> bool:
        return self.rank == 0

    def bounds(self, total: int) -> tuple:
        """Where this rank's share of `total` rows starts and stops."""
        return total * self.rank // self.world, total * (self.rank + 1) // self.world

    def step_loss(self, loss_fn, inputs: Tensor, targets: Tensor):
        """This rank's share of a global training batch through the model: (inputs,
        targets, logits, the loss to call backward on, the loss's value).

        The loss is weighted by N · share / batch size, so that DDP's average of the
        gradients is the gradient of the whole batch's mean loss. A rank left without
        examples (a last batch smaller than N) runs one with weight 0, to take its part
        in the gradient allreduce."""
        total = len(targets)
        start, stop = self.bounds(total)
        rows = slice(start, stop) if stop > start else slice(0, 1)
        inputs, targets = Tensor._wrap(inputs.array[rows]), Tensor._wrap(targets.array[rows])
        logits = self.model(inputs)
        loss = loss_fn(logits, targets)
        value = loss.item()
        weight = self.world * (stop - start) / total
        if stop == start:
            targets, value = Tensor._wrap(targets.array[:0]), 0.0
        return inputs, targets, logits, loss if weight == 1 else loss * weight, value

    def evaluation_share(self, inputs: Tensor, targets: Tensor, rows: list):
        """This rank's share of an evaluation batch; `rows` records where the share lies in
        the whole evaluation set (for `merge`)."""
        first = rows[-1][0] + rows[-1][1] if rows else 0
        start, stop = self.bounds(len(targets))
        rows.append((first, len(targets), start, stop))
        return Tensor._wrap(inputs.array[start:stop]), Tensor._wrap(targets.array[start:stop])

    def merge(self, total_loss: float, rows: list, predicted, actual):
        """The whole evaluation from every rank's share: (summed loss, predictions and
        targets in the evaluation set's order)."""
        order = [numpy.arange(first + start, first + stop) for first, _, start, stop in rows]
        order = numpy.concatenate(order) if order else numpy.zeros(0, numpy.int64)
        table = numpy.stack([order, predicted, actual], axis=1).astype(numpy.int64)
        everything = all_gather_rows(table)
        everything = everything[numpy.argsort(everything[:, 0], kind="stable")]
        (loss,) = self.sums(total_loss)
        return loss, everything[:, 1], everything[:, 2]

    def sums(self, *values: float) -> list:
        """Each value summed over the ranks (float64)."""
        totals = Tensor._wrap(numpy.asarray(values, dtype=numpy.float64))
        dist.all_reduce(totals)
        return totals.array.tolist()

    def barrier(self) -> None:
        dist.barrier()


def _stop_the_job_on_errors(ranks: DataParallel) -> None:
    """A traceback on any rank aborts every rank (MPI would otherwise wait for the failed
    one at the next collective); mpirun's SIGTERM after another rank died is reported on
    rank 0 instead of vanishing."""
    shown = sys.excepthook

    def abort_after(kind, value, traceback):
        shown(kind, value, traceback)
        abort(1)
    sys.excepthook = abort_after

    def stopped(signum, frame):
        if ranks.leader:
            kept = (f"; the last checkpoint is {ranks.checkpoint_path}: continue with --resume "
                    "(with any number of ranks)"
                    if ranks.checkpoint_path and os.path.exists(ranks.checkpoint_path)
                    else "; no checkpoint was written yet")
            print(f"chainrule: error: rank 0: the job was stopped: another of the {ranks.world} "
                  f"ranks ended first (killed, or failed: see its message){kept}",
                  file=sys.stderr, flush=True)
        os._exit(EXIT_STOPPED)
    signal.signal(signal.SIGTERM, stopped)


def rank_prefix() -> str:
    """"rank 3: " in a run of several ranks, "" otherwise (for error messages)."""
    if dist.is_initialized() and dist.get_world_size() > 1:
        return f"rank {dist.get_rank()}: "
    return ""


def abort(code: int) -> None:
    """End every rank of a run of several ranks now (after this rank printed its error)."""
    if dist.is_initialized() and dist.get_world_size() > 1:
        sys.stderr.flush()
        from mpi4py import MPI
        MPI.COMM_WORLD.Abort(code)
