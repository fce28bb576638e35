"""A batch in two halves on two threads, for the convolution kernels (kernels/halves.py)."""
import threading

import numpy
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule.kernels import halves
from chainrule.kernels import im2col as conv_kernels


@pytest.fixture(autouse=True)
def two_blas_threads(monkeypatch):
    """As on a machine whose BLAS has two threads (a one-core machine would not split), and
    with the small arrays of these tests split too."""
    monkeypatch.setattr(halves, "blas_threads", lambda: 2)
    monkeypatch.setattr(halves, "MIN_SPLIT", 0)
    monkeypatch.setattr(halves, "busy", lambda: True)  # as under load: see the next test


def test_a_quiet_machine_runs_in_one_piece(monkeypatch):
    """Without other work running, BLAS's own threads were faster than the halves."""
    monkeypatch.setattr(halves, "busy", lambda: False)
    assert halves.batch_parts(64, numpy.zeros((64, 32, 8, 8))) == [(0, 64)]


def test_busy_follows_the_run_queue_within_a_second(monkeypatch):
    """Two runnable threads on 2 cores (ours) is not busy; a third, kept up, is within
    about a second; the queue is read at most every READ_EVERY seconds."""
    from chainrule.kernels import threads
    queue = {"running": 2, "reads": 0}

    def runnable():
        queue["reads"] += 1
        return queue["running"]
    monkeypatch.setattr(threads, "_runnable", runnable)
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(threads, "_load", {"read": -1.0, "running": 0.0, "busy": False})
    clock = {"now": 100.0}
    monkeypatch.setattr(threads.time, "monotonic", lambda: clock["now"])
    assert not threads.busy() and not threads.busy() and queue["reads"] == 1
    queue["running"] = 3  # another process starts
    answers = []
    for _ in range(6):
        clock["now"] += 0.25
        answers.append(threads.busy())
    assert answers[-1] and not answers[0] and answers.index(True) <= 3
    queue["running"] = 2  # and stops
    answers = []
    for _ in range(8):
        clock["now"] += 0.25
        answers.append(threads.busy())
    assert answers[0] and not answers[-1]


def test_without_a_run_queue_the_machine_is_not_busy(monkeypatch):
    from chainrule.kernels import threads
    monkeypatch.setattr(threads, "_runnable", lambda: None)
    monkeypatch.setattr(threads, "_load", {"read": -1.0, "running": 0.0, "busy": False})
    assert not threads.busy()


def test_small_arrays_stay_in_one_piece(monkeypatch):
    monkeypatch.setattr(halves, "MIN_SPLIT", 1 << 16)
    assert halves.batch_parts(64, numpy.zeros((64, 32, 4, 4))) == [(0, 64)]  # W3's 2nd pool
    assert halves.batch_parts(64, numpy.zeros((64, 32, 8, 8))) == [(0, 32), (32, 64)]


def test_two_halves_run_on_two_threads_in_order():
    threads = {}

    def work(index, start, stop):
        threads[index] = threading.get_ident()
        return index, start, stop
    parts = halves.batch_parts(7, numpy.zeros(1))
    assert parts == [(0, 3), (3, 7)]
    assert halves.run_parts(work, parts) == [(0, 0, 3), (1, 3, 7)]
    assert threads[1] == threading.get_ident() != threads[0]


def test_one_image_or_a_call_inside_a_half_stays_in_one_piece():
    like = numpy.zeros(1)
    assert halves.batch_parts(1, like) == [(0, 1)]
    inner = halves.run_parts(lambda i, a, b: halves.batch_parts(8, like),
                             halves.batch_parts(4, like))
    assert inner == [[(0, 8)], [(0, 8)]]  # no deadlock on the one worker, no split


def test_an_error_in_the_worker_half_reaches_the_caller():
    def work(index, start, stop):
        if index == 0:
            raise ValueError("first half")
        return stop
    with pytest.raises(ValueError, match="first half"):
        halves.run_parts(work, halves.batch_parts(4, numpy.zeros(1)))


@pytest.mark.parametrize("x_shape, w_shape, kwargs", [
    ((5, 1, 12, 12), (4, 1, 5, 5), {}),                       # columns, per-image products
    ((5, 16, 9, 9), (6, 16, 3, 3), dict(padding=1)),          # channels last
    ((4, 4, 9, 8), (6, 2, 3, 3), dict(stride=2, groups=2)),   # groups, one GEMM
])
def test_halves_give_what_one_piece_gives(monkeypatch, x_shape, w_shape, kwargs):
    results = []
    for split in (True, False):
        if not split:
            monkeypatch.setattr(conv_kernels, "batch_parts", lambda n, like: [(0, n)])
        rng = numpy.random.default_rng(0)
        x, w = (cr.tensor(rng.standard_normal(s), requires_grad=True) for s in (x_shape, w_shape))
        y = F.conv2d(x, w, **kwargs)
        (y * y).sum().backward()
        results.append([y.numpy(), x.grad.numpy(), w.grad.numpy()])
    for got, expected in zip(*results):
        numpy.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_a_blas_held_to_one_thread_means_one_piece(monkeypatch):
    monkeypatch.setattr(halves, "blas_threads", lambda: 1)  # OPENBLAS_NUM_THREADS=1
    assert halves.batch_parts(4, numpy.zeros(1)) == [(0, 4)]


def test_a_forked_child_runs_in_one_piece(monkeypatch):
    """A process forked after the import (a data-loading worker) starts no threads."""
    monkeypatch.setattr(halves, "_home", -1)  # as seen from a forked child
    assert halves.batch_parts(4, numpy.zeros(1)) == [(0, 4)]


@pytest.mark.parametrize("pool, kwargs", [
    (F.max_pool2d, dict(kernel_size=2)),                       # a stack of tiles
    (F.max_pool2d, dict(kernel_size=3, stride=2, padding=1)),  # overlapping slices
    (F.avg_pool2d, dict(kernel_size=3, stride=2, padding=1)),
])
def test_pools_in_halves_give_what_one_piece_gives(monkeypatch, pool, kwargs):
    from chainrule.kernels import windows
    x = numpy.maximum(numpy.random.default_rng(0).standard_normal((5, 3, 8, 8)), 0)  # ties
    results = []
    for split in (True, False):
        if not split:
            monkeypatch.setattr(windows, "batch_parts", lambda n, like: [(0, n)])
        cx = cr.tensor(x, requires_grad=True)
        y = pool(cx, **kwargs)
        upstream = numpy.random.default_rng(1).standard_normal(y.shape)
        y.backward(cr.tensor(upstream))
        results.append([y.numpy(), cx.grad.numpy()])
    for got, expected in zip(*results):
        numpy.testing.assert_array_equal(got, expected)
