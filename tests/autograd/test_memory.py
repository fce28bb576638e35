"""Graph memory: backward releases what the graph held, so a long training loop stays flat."""
from __future__ import annotations

import gc
import time
import tracemalloc
import weakref

import numpy

import chainrule as cr


def test_backward_releases_the_graph() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    hidden = x.exp()
    loss = (hidden * x).sum()
    node = loss.grad_fn
    probe = weakref.ref(hidden)
    loss.backward()
    assert node.inputs is None and node.saved is None  # nodes drop inputs and saved arrays
    del hidden
    assert probe() is None  # nothing in the (still alive) loss keeps the activation alive
    assert loss.item() == numpy.float32(numpy.exp(numpy.float32([1, 2])) @ [1, 2])


def test_retain_graph_keeps_it_until_the_last_backward() -> None:
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    hidden = x.exp()
    loss = (hidden * x).sum()
    probe = weakref.ref(hidden)
    del hidden
    loss.backward(retain_graph=True)
    assert probe() is not None
    loss.backward()
    assert probe() is None


def test_training_loop_memory_stays_flat_over_10000_steps() -> None:
    """A 4-8-1 MLP from raw tensors, trained by hand (SGD under no_grad) for 10,000 steps.

    The cyclic garbage collector is off during the loop, so everything a step allocates
    must be freed by reference counting alone; `gc.collect()` at each measurement must find
    nothing, and also empties CPython's free lists (bounded caches of freed tuples and
    floats that tracemalloc would otherwise count). Traced memory at step 10,000 then
    equals that at step 1,000 up to NumPy's small allocation caches (a few KB); a leak of
    even 4 bytes per step would exceed the bound, one small array per step adds ~1 MB."""
    cr.manual_seed(0)
    x = cr.randn(16, 4)
    target = (x[:, :1] * 2 - x[:, 1:2]).tanh()
    params = [cr.randn(4, 8) * 0.5, cr.zeros(8), cr.randn(8, 1) * 0.5, cr.zeros(1)]
    for p in params:
        p.requires_grad_()
    w1, b1, w2, b2 = params

    def step():
        loss = (((x @ w1 + b1).tanh() @ w2 + b2 - target) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with cr.no_grad():
            for p in params:
                p -= 0.05 * p.grad
        return loss.item()

    seconds, grew, first_loss, last_loss = _flat_run(step)
    assert last_loss < first_loss / 10, (first_loss, last_loss)  # it did train
    assert all(p.requires_grad and p.is_leaf for p in params)
    assert grew < 32 * 1024, f"traced memory grew by {grew} bytes from step 1,000 to 10,000"
    assert seconds < 60, f"10,000 steps took {seconds:.1f} s"


def test_module_training_with_sparse_gradients_stays_flat_over_10000_steps() -> None:
    """The same with layers and an optimizer: an EmbeddingBag whose sparse gradient sums
    late (it holds its plan and per-bag rows until SGD reads them), a Linear layer,
    cross-entropy and SGD: nothing a step makes outlives the next step."""
    cr.manual_seed(0)
    ids = cr.tensor(numpy.random.default_rng(0).integers(0, 50, (8, 6)))
    labels = cr.tensor(numpy.arange(8) % 2)
    bag = cr.nn.EmbeddingBag(50, 4, mode="mean", sparse=True)
    linear = cr.nn.Linear(4, 2)
    opt = cr.optim.SGD(list(bag.parameters()) + list(linear.parameters()), lr=0.5)

    def step():
        loss = cr.nn.functional.cross_entropy(linear(bag(ids)), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    seconds, grew, first_loss, last_loss = _flat_run(step)
    assert last_loss < first_loss / 10, (first_loss, last_loss)
    assert grew < 32 * 1024, f"traced memory grew by {grew} bytes from step 1,000 to 10,000"
    assert seconds < 60, f"10,000 steps took {seconds:.1f} s"


def _flat_run(step):
    """10,000 calls of `step` with the cyclic collector off: the seconds they took, the
    traced memory's growth from call 1,000 to call 10,000, the first and last loss."""
    def settled_memory():
        assert gc.collect() == 0, "the training step left reference cycles behind"
        return tracemalloc.get_traced_memory()[0]

    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        start = time.perf_counter()
        first_loss = step()
        for _ in range(999):
            step()
        at_1000 = settled_memory()
        for _ in range(9000):
            last_loss = step()
        at_10000 = settled_memory()
        seconds = time.perf_counter() - start
    finally:
        tracemalloc.stop()
        gc.enable()
    return seconds, at_10000 - at_1000, first_loss, last_loss


def test_second_order_training_loop_memory_stays_flat() -> None:
    """A gradient penalty (autograd.grad with create_graph, then backward through it)
    leaves no cycles and no growth either."""
    cr.manual_seed(1)
    x = cr.randn(8, 3, dtype=cr.float64)
    w = cr.randn(3, 1, dtype=cr.float64, requires_grad=True)

    def step():
        nonlocal w  # `w -= …` rebinds the name to the same (updated in place) tensor
        loss = ((x @ w).tanh() ** 2).mean()
        (g,) = cr.autograd.grad(loss, w, create_graph=True)
        total = loss + (g * g).sum()
        w.grad = None
        total.backward()
        with cr.no_grad():
            w -= 0.1 * w.grad

    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        for _ in range(500):  # NumPy's small-allocation caches fill up meanwhile
            step()
        assert gc.collect() == 0
        at_500 = tracemalloc.get_traced_memory()[0]
        for _ in range(500):
            step()
        assert gc.collect() == 0
        at_1000 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
        gc.enable()
    assert at_1000 - at_500 < 32 * 1024, f"grew by {at_1000 - at_500} bytes in 500 steps"
