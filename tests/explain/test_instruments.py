"""Instruments against brute force: per-example gradients against a loop over examples,
Hessian-vector products and the top eigenvalue against finite-difference Hessians."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.explain import instruments as ins
from chainrule.nn import functional as F


def brute_force_shares(model, layer, x, y):
    """Each example's gradient of its own loss, divided by the batch size (its share of
    the mean loss's gradient), by one backward per example."""
    shares = {name: [] for name, _ in layer.named_parameters()}
    for i in range(len(y)):
        model.zero_grad()
        F.cross_entropy(model(x[i:i + 1]), y[i:i + 1]).backward()
        for name, p in layer.named_parameters():
            shares[name].append(p.grad.numpy() / len(y))
    return {name: np.stack(v) for name, v in shares.items()}


def engine_shares(model, layer, x, y):
    """The layer's input and output gradient from one batched backward, through hooks."""
    seen = {}
    h1 = layer.register_forward_hook(lambda m, args, out: seen.update(x=args[0]))
    h2 = layer.register_full_backward_pre_hook(lambda m, g: seen.update(g=g[0]))
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    h1.remove()
    h2.remove()
    return ins.per_example_gradients(layer, seen["x"], seen["g"]), seen


class SeqLinear(nn.Module):
    """A Linear layer applied at every time step, then summed over time: the per-example
    rule must sum over time, not over examples."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 5)
        self.head = nn.Linear(5, 3)

    def forward(self, x):
        return self.head(self.proj(x).tanh().sum(1))


def models():
    cr.manual_seed(0)
    rng = np.random.default_rng(0)
    y = cr.tensor(rng.integers(0, 3, 6))
    mlp = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)).double()
    seq = SeqLinear().double()
    conv = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1, stride=2), nn.ReLU(), nn.Flatten(),
                         nn.Linear(3 * 3 * 3, 3)).double()
    conv1d = nn.Sequential(nn.Conv1d(2, 3, 3, padding="same"), nn.Tanh(), nn.Flatten(),
                           nn.Linear(3 * 7, 3)).double()
    emb = nn.Sequential(nn.Embedding(7, 4, padding_idx=0), nn.Flatten(),
                        nn.Linear(12, 3)).double()
    double = lambda *s: cr.tensor(rng.standard_normal(s))  # noqa: E731
    return [("linear", mlp, mlp[0], double(6, 4), y),
            ("linear-over-time", seq, seq.proj, double(6, 5, 4), y),
            ("conv2d", conv, conv[0], double(6, 2, 5, 5), y),
            ("conv1d", conv1d, conv1d[0], double(6, 2, 7), y),
            ("embedding", emb, emb[0], cr.tensor(rng.integers(0, 7, (6, 3))), y)]


@pytest.mark.parametrize("case", models(), ids=lambda c: c[0])
def test_per_example_gradients_match_a_loop_over_examples(case):
    _, model, layer, x, y = case
    expected = brute_force_shares(model, layer, x, y)
    shares, seen = engine_shares(model, layer, x, y)
    assert set(shares) == set(expected)
    for name in expected:
        np.testing.assert_allclose(shares[name], expected[name], rtol=1e-9, atol=1e-12)
        # and they sum to the batch gradient
        np.testing.assert_allclose(shares[name].sum(0), getattr(layer, name).grad.numpy(),
                                   rtol=1e-9, atol=1e-12)
    squares, total = ins.per_example_square_norms(layer, seen["x"], seen["g"])
    flat = np.concatenate([expected[n].reshape(len(y), -1) for n in expected], axis=1)
    np.testing.assert_allclose(squares, (flat ** 2).sum(1), rtol=1e-9)
    np.testing.assert_allclose(total, (flat.sum(0) ** 2).sum(), rtol=1e-9)


def test_gradient_spread_and_noise_against_their_definitions():
    rng = np.random.default_rng(1)
    grads = rng.standard_normal((8, 5)) + 3.0  # each example's own gradient
    shares = grads / 8
    squares = (shares ** 2).sum(1)
    mean = grads.mean(0)
    spread = ins.gradient_spread(squares, float((shares.sum(0) ** 2).sum()))
    assert spread == pytest.approx(((grads - mean) ** 2).sum(1).sum() / 7, rel=1e-12)
    signal = (mean ** 2).sum() - spread / 8
    assert ins.gradient_noise(spread, (mean ** 2).sum(), 8) == \
        pytest.approx(spread / 8 / signal, rel=1e-12)


def finite_difference_hessian(loss_fn, params, eps=1e-5):
    """Column j: (∇L(θ + eps e_j) - ∇L(θ - eps e_j)) / 2eps, over all parameters flattened."""
    def flat_grad():
        grads = cr.autograd.grad(loss_fn(), params)
        return np.concatenate([g.numpy().ravel() for g in grads])
    columns = []
    for p in params:
        flat = p.array.reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            plus = flat_grad()
            flat[j] = old - eps
            minus = flat_grad()
            flat[j] = old
            columns.append((plus - minus) / (2 * eps))
    return np.stack(columns, axis=1)


def small_problem(activation):
    cr.manual_seed(3)
    rng = np.random.default_rng(3)
    model = nn.Sequential(nn.Linear(3, 4), activation, nn.Linear(4, 3)).double()
    x, y = cr.tensor(rng.standard_normal((10, 3))), cr.tensor(rng.integers(0, 3, 10))
    params = list(model.parameters())
    return (lambda: F.cross_entropy(model(x), y)), params


@pytest.mark.parametrize("activation", [nn.Tanh(), nn.Sigmoid()], ids=["tanh", "sigmoid"])
def test_hessian_vector_products_and_top_eigenvalue_match_finite_differences(activation):
    loss_fn, params = small_problem(activation)
    hessian = finite_difference_hessian(loss_fn, params)
    np.testing.assert_allclose(hessian, hessian.T, atol=1e-6)  # the check itself is sound
    rng = np.random.default_rng(0)
    vectors = [rng.standard_normal(p.shape) for p in params]
    product = ins.hessian_vector_product(loss_fn, params, vectors)
    flat = np.concatenate([h.ravel() for h in product])
    np.testing.assert_allclose(flat, hessian @ np.concatenate([v.ravel() for v in vectors]),
                               rtol=1e-6, atol=1e-7)
    eigenvalues = np.linalg.eigvalsh((hessian + hessian.T) / 2)
    largest = eigenvalues[np.abs(eigenvalues).argmax()]
    found = ins.top_hessian_eigenvalue(loss_fn, params, iterations=500, tolerance=1e-10)
    assert found == pytest.approx(largest, rel=1e-4)


def test_readings_every_n_steps_and_nothing_registered_between():
    cr.manual_seed(0)
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    meter = ins.Instruments(model, every=5)
    x = cr.tensor(rng.standard_normal((16, 4)).astype(np.float32))
    y = cr.tensor(rng.integers(0, 3, 16))
    for step in range(1, 13):
        hooked = any(m._hooks is not None for m in model.modules())
        assert hooked == (step in (1, 5, 10))
        if step == 10:
            before = model[0].weight.numpy().copy()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        if step == 10:
            grad = model[0].weight.grad.numpy().copy()
            outputs = model[0](x).numpy()
        opt.step()
        meter.after_step(step, loss.item(), 0.1)
    assert [r["step"] for r in meter.readings] == [1, 5, 10]
    last = meter.readings[-1]["layers"]["0"]
    assert last["grad_norm"] == pytest.approx(np.linalg.norm(grad), rel=1e-5)
    assert last["update_ratio"] == pytest.approx(
        0.1 * np.linalg.norm(grad) / np.linalg.norm(before), rel=1e-4)
    relu = meter.readings[-1]["activations"]["1"]
    alive = (outputs > 0).any(0)
    assert relu["dead"] == pytest.approx(1 - alive.mean())
    assert meter.readings[-1]["gradient_spread"] > 0
    assert len(meter.losses) == 12


class Reader(nn.Module):
    """A recurrent layer read at its last step, then a Linear to 3 classes."""

    def __init__(self, cell):
        super().__init__()
        self.rnn = cell
        self.head = nn.Linear(cell.hidden_size * (2 if cell.bidirectional else 1), 3)

    def forward(self, x):
        return self.head(self.rnn(x)[0][:, -1])


@pytest.mark.parametrize("make", [
    lambda: nn.LSTM(3, 4, batch_first=True),
    lambda: nn.GRU(3, 4, batch_first=True),
    lambda: nn.RNN(3, 4, batch_first=True),
    lambda: nn.GRU(3, 4, batch_first=True, bidirectional=True, bias=False),
], ids=["lstm", "gru", "rnn", "gru-bidirectional-no-bias"])
def test_recurrent_per_example_gradients_match_a_loop_over_examples(make):
    cr.manual_seed(0)
    rng = np.random.default_rng(0)
    model = Reader(make()).double()
    x, y = cr.tensor(rng.standard_normal((5, 6, 3))), cr.tensor(rng.integers(0, 3, 5))
    expected = brute_force_shares(model, model.rnn, x, y)
    taps = []
    handle = model.rnn.register_forward_hook(
        lambda m, args, out: taps.append(ins.RecurrentTap(m, args[0], out)))
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    handle.remove()
    shares = taps[0].shares()
    assert set(shares) == set(expected)
    for name in expected:
        np.testing.assert_allclose(shares[name], expected[name], rtol=1e-9, atol=1e-12)


def test_instruments_read_gradient_noise_of_a_recurrent_network():
    cr.manual_seed(0)
    rng = np.random.default_rng(0)
    model = Reader(nn.LSTM(3, 4, batch_first=True))
    opt = cr.optim.SGD(model.parameters(), lr=0.1)
    meter = ins.Instruments(model, every=10)
    x = cr.tensor(rng.standard_normal((8, 6, 3)).astype(np.float32))
    y = cr.tensor(rng.integers(0, 3, 8))
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    meter.after_step(1, loss.item())
    reading = meter.readings[0]
    assert list(reading["layers"]) == ["rnn", "head"]
    assert reading["layers"]["rnn"]["grad_norm"] > 0 and reading["gradient_spread"] > 0
