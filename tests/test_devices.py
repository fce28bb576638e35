"""Layers, losses and optimizers on each device against PyTorch on the CPU, the fused GPU
kernels (kernels/gpu) through the ops and optimizers that use them, a training step that
never waits for the GPU, and the one error for inputs on two devices.

Every test that takes `device` runs on "cpu" and on "cuda"; the cuda half is skipped
without CuPy and a GPU (tests/devices.py). float32 on the GPU is compared at
devices.CUDA_FLOAT32_TOLERANCE.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from devices import CUDA_FLOAT32_TOLERANCE, DEVICES

import chainrule as cr
from chainrule import nn
from chainrule.autograd.op import _explain
from chainrule.ops.elementwise import Add

only_cuda = pytest.mark.parametrize("device", DEVICES[1:])  # (the id says [cuda])


def _tolerance(device, dtype):
    if dtype == np.float64:
        return 1e-9, 1e-10
    return CUDA_FLOAT32_TOLERANCE if device == "cuda" else (1e-5, 1e-6)


# --- layers ----------------------------------------------------------------------------------
LAYERS = {
    "mlp": (lambda m: m.Sequential(m.Linear(6, 5), m.ReLU(), m.Linear(5, 4), m.Tanh(),
                                   m.Linear(4, 3), m.Sigmoid()), (7, 6)),
    "conv-pool": (lambda m: m.Sequential(m.Conv2d(2, 3, 3, padding=1), m.ReLU(),
                                         m.MaxPool2d(2), m.Flatten()), (2, 2, 6, 6)),
    "batchnorm": (lambda m: m.BatchNorm1d(4), (8, 4)),
    "layernorm": (lambda m: m.LayerNorm(6), (3, 6)),
    "lstm": (lambda m: m.LSTM(3, 4, batch_first=True), (2, 5, 3)),
    "gru": (lambda m: m.GRU(3, 4), (5, 2, 3)),
    "embedding": (lambda m: m.Embedding(10, 3), (4, 5)),
}


def _output(out):
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_torch(name, dtype, device):
    build, shape = LAYERS[name]
    torch.manual_seed(0)
    theirs = build(torch.nn).to(getattr(torch, np.dtype(dtype).name))
    ours = build(nn)
    ours.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in
                          theirs.state_dict().items()})
    ours.to(device, cr.float64 if dtype == np.float64 else cr.float32)
    assert all(p.device.type == device for p in ours.parameters())
    rng = np.random.default_rng(0)
    if name == "embedding":
        x = rng.integers(0, 10, shape)
        xs, xt = cr.tensor(x, device=device), torch.tensor(x)
    else:
        x = rng.standard_normal(shape).astype(dtype)
        xs, xt = cr.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    got, expected = _output(ours(xs)), _output(theirs(xt))
    rtol, atol = _tolerance(device, dtype)
    np.testing.assert_allclose(got.detach().cpu().numpy(), expected.detach().numpy(), rtol, atol)
    upstream = rng.standard_normal(tuple(expected.shape)).astype(dtype)
    (got * cr.tensor(upstream, device=device)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    if name != "embedding":
        assert xs.grad.device.type == device
        np.testing.assert_allclose(xs.grad.cpu().numpy(), xt.grad.numpy(), rtol, atol)
    for (key, p), q in zip(ours.named_parameters(), theirs.parameters()):
        assert p.grad.device.type == device, key
        np.testing.assert_allclose(p.grad.cpu().numpy(), q.grad.numpy(), rtol, atol,
                                   err_msg=key)


# --- losses (cross-entropy takes the fused kernels on a GPU) ----------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore", [False, True])
def test_cross_entropy_matches_torch(reduction, ignore, dtype, device):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((9, 300)) * 4).astype(dtype)  # more classes than one block's threads
    y = rng.integers(0, 300, 9)
    if ignore:
        y[[1, 4]] = -100
    xs = cr.tensor(x, device=device, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    got = nn.functional.cross_entropy(xs, cr.tensor(y, device=device), reduction=reduction)
    expected = torch.nn.functional.cross_entropy(xt, torch.tensor(y), reduction=reduction)
    rtol, atol = _tolerance(device, dtype)
    assert got.device.type == device and got.shape == tuple(expected.shape)
    np.testing.assert_allclose(got.detach().cpu().numpy(), expected.detach().numpy(), rtol, atol)
    upstream = rng.standard_normal(tuple(expected.shape)).astype(dtype)
    (got * cr.tensor(upstream, device=device)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(xs.grad.cpu().numpy(), xt.grad.numpy(), rtol, atol)


def test_cross_entropy_second_derivative_matches_torch(device):
    rng = np.random.default_rng(4)
    x, y, w = rng.standard_normal((5, 7)), rng.integers(0, 7, 5), rng.standard_normal((5, 7))
    xs, xt = cr.tensor(x, device=device, requires_grad=True), torch.tensor(x, requires_grad=True)
    (gs,) = cr.autograd.grad(nn.functional.cross_entropy(xs, cr.tensor(y, device=device)), xs,
                             create_graph=True)
    (gt,) = torch.autograd.grad(torch.nn.functional.cross_entropy(xt, torch.tensor(y)), xt,
                                create_graph=True)
    (hs,) = cr.autograd.grad((gs * cr.tensor(w, device=device)).sum(), xs)
    (ht,) = torch.autograd.grad((gt * torch.tensor(w)).sum(), xt)
    np.testing.assert_allclose(hs.cpu().numpy(), ht.numpy(), 1e-9, 1e-12)


# --- optimizers (SGD and Adam take the multi-tensor kernels on a GPU) -------------------------
OPTIMIZERS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.3, 0.4), weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01, amsgrad=True)),  # the rule written out, on either device
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,options", OPTIMIZERS,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(OPTIMIZERS)])
def test_optimizer_matches_torch(name, options, dtype, device):
    # 40 tensors: more than one launch of the fused kernels holds (TENSORS = 32)
    rng = np.random.default_rng(5)
    shapes = [(3, 4), (5,), ()] * 13 + [(2, 2)]
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ours = [cr.tensor(a, device=device, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    opt = getattr(cr.optim, name)(ours, **options)
    topt = getattr(torch.optim, name)(theirs, **options)
    for step in range(6):
        for k, (p, q) in enumerate(zip(ours, theirs)):
            skipped = step == 1 and k % 7 == 0  # parameters at different steps
            g = rng.standard_normal(p.shape).astype(dtype)
            p.grad = None if skipped else cr.tensor(g, device=device)
            q.grad = None if skipped else torch.tensor(g)
        opt.step()
        topt.step()
    rtol, atol = _tolerance(device, dtype)
    for p, q in zip(ours, theirs):
        assert p.device.type == device
        np.testing.assert_allclose(p.detach().cpu().numpy(), q.detach().numpy(), rtol, atol)
        for key, value in opt.state[p].items():
            if key != "step":
                assert value.device.type == device, key


# --- moving and mixing -----------------------------------------------------------------------
def test_inputs_on_two_devices_are_one_error_naming_both():
    # (stand-ins for the tensors: the message is built from shape, dtype and device alone)
    a = SimpleNamespace(shape=(2, 3), dtype=np.dtype("float32"), device=cr.device("cpu"))
    b = SimpleNamespace(shape=(2, 3), dtype=np.dtype("float32"), device=cr.device("cuda", 0))
    message = str(_explain(Add, (a, b), {}, TypeError("Unsupported type")))
    assert message.startswith("add: inputs are on different devices (cpu, cuda:0); move them "
                              "with .to(device) first")


@only_cuda
def test_mixing_devices_in_one_op_raises_one_clear_error(device):
    with pytest.raises(cr.autograd.op.OpError, match="different devices"):
        cr.ones(3, device="cuda") + cr.ones(3)
    with pytest.raises(cr.autograd.op.OpError, match="different devices"):
        nn.Linear(3, 2)(cr.ones(4, 3, device="cuda"))


@only_cuda
def test_model_to_cuda_and_back(device):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    model.to(device)
    assert {t.device.type for t in [*model.parameters(), *model.buffers()]} == {"cuda"}
    model(cr.randn(5, 3, device="cuda")).sum().backward()
    assert all(p.grad.device.type == "cuda" for p in model.parameters())
    model.cpu()
    assert {t.device.type for t in [*model.parameters(), *model.buffers()]} == {"cpu"}
    assert all(p.grad.device.type == "cpu" for p in model.parameters())


def _step(model, opt, x, y):
    loss = nn.functional.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


@only_cuda
def test_a_training_step_never_waits_for_the_gpu(device):
    import cupyx
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                          nn.Linear(256, 10)).to("cuda")
    x, y = cr.randn(128, 784, device="cuda"), cr.randint(0, 10, (128,), device="cuda")
    for opt in (cr.optim.SGD(model.parameters(), lr=0.01, momentum=0.9),
                cr.optim.Adam(model.parameters(), lr=1e-3)):
        _step(model, opt, x, y)  # compiles the kernels
        with cupyx.allow_synchronize(False):
            for _ in range(3):
                loss = _step(model, opt, x, y)
        assert np.isfinite(loss.item())
