"""What running more public PyTorch programs on chainrule found missing or different, each
checked here against PyTorch: the import paths, the behaviours and the sizes they rely on."""
import importlib

import numpy
import pytest
import torch as real_torch

import chainrule
from chainrule.utils.data import DataLoader, RandomSampler, TensorDataset


def test_random_sampler_with_replacement_draws_lazily():
    """karpathy/makemore's endless loader: RandomSampler(replacement=True, num_samples=1e10);
    drawing all 1e10 indices at once needed 75 GB."""
    data = TensorDataset(chainrule.arange(10))
    sampler = RandomSampler(data, replacement=True, num_samples=int(1e10))
    batches = iter(DataLoader(data, batch_size=4, sampler=sampler))
    first = [next(batches)[0] for _ in range(3)]
    assert all(b.shape == (4,) for b in first)
    values = chainrule.cat(first).numpy()
    assert values.min() >= 0 and values.max() <= 9
    assert len(sampler) == int(1e10) == len(real_torch.utils.data.RandomSampler(
        real_torch.arange(10), replacement=True, num_samples=int(1e10)))


def test_random_sampler_with_replacement_count_and_range():
    sampler = RandomSampler(range(7), replacement=True, num_samples=2500)
    drawn = list(sampler)
    assert len(drawn) == 2500 and set(drawn) == set(range(7))


def test_summary_writer_at_torch_path_takes_tensors(tmp_path):
    """makemore: `from torch.utils.tensorboard import SummaryWriter`; add_scalar gets floats
    or tensors, add_histogram a weight, add_scalars a dict of tensors."""
    tensorboard = pytest.importorskip("tensorboardX")
    from chainrule.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=str(tmp_path))
    assert isinstance(writer, tensorboard.SummaryWriter)
    writer.add_scalar("Loss/train", 2.5, 0)
    writer.add_scalar("Loss/test", chainrule.tensor(1.5), 1)
    writer.add_histogram("weight", chainrule.nn.Linear(3, 2).weight, 1)
    writer.add_scalars("both", {"a": chainrule.tensor(1.0), "b": 2.0}, 2)
    writer.flush()
    writer.close()
    events = list(tmp_path.rglob("events.out.tfevents.*"))
    assert events and sum(e.stat().st_size for e in events) > 100


def test_summary_writer_through_the_import_hook(tmp_path):
    pytest.importorskip("tensorboardX")
    from chainrule.compat.torch_alias import torch_as_chainrule

    with torch_as_chainrule():
        from torch.utils.tensorboard import SummaryWriter   # noqa: I001
        writer = SummaryWriter(str(tmp_path))
        writer.add_scalar("x", numpy.float32(1.0), 0)
        writer.close()
    assert SummaryWriter.__module__ == "chainrule.utils.tensorboard"


@pytest.mark.parametrize("make", [
    lambda torch: torch.FloatTensor(torch.zeros(3, 4).size()).normal_(),
    lambda torch: torch.Tensor(torch.zeros(3, 4).size()),
    lambda torch: torch.LongTensor(torch.zeros(2, 5).size()),
    lambda torch: torch.FloatTensor((3, 4)),      # a plain tuple is data
    lambda torch: torch.Tensor([3, 4]),
])
def test_legacy_constructors_read_a_size_as_sizes(make):
    """L1aoXingyu/pytorch-beginner's VAE: `eps = torch.FloatTensor(std.size()).normal_()`."""
    ours, theirs = make(chainrule), make(real_torch)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")


def test_size_is_a_size():
    size = chainrule.zeros(2, 3).size()
    assert isinstance(size, chainrule.Size) and size == (2, 3) and size.numel() == 6
    assert chainrule.zeros(2, 3).size(1) == 3 == real_torch.zeros(2, 3).size(1)


def custom_optimizer_program(torch):
    """An optimizer written the way custom ones copy PyTorch's own: `required`,
    `@torch.no_grad()`, `enable_grad` around the closure, `zeros_like(p,
    memory_format=torch.preserve_format)`, `addcmul_`/`addcdiv_` with `value=`."""
    module = importlib.import_module(torch.__name__ + ".optim.optimizer")
    Optimizer, required = module.Optimizer, module.required

    class Scaled(Optimizer):
        def __init__(self, params, lr=required, beta=0.9):
            super().__init__(params, dict(lr=lr, beta=beta))

        @torch.no_grad()
        def step(self, closure=None):
            with torch.enable_grad():
                loss = closure()
            for group in self.param_groups:
                for p in group["params"]:
                    state = self.state[p]
                    if not state:
                        state["sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["sq"].mul_(group["beta"]).addcmul_(p.grad, p.grad, value=0.1)
                    p.addcdiv_(p.grad, state["sq"].sqrt().add_(1e-8), value=-group["lr"])
            return loss

    weight = torch.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    target = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    optimizer = Scaled([weight], lr=0.05)

    def closure():
        optimizer.zero_grad()
        loss = ((weight - target) ** 2).sum()
        loss.backward()
        return loss

    losses = [optimizer.step(closure).item() for _ in range(20)]
    return losses, weight.detach().numpy()


def test_custom_optimizer_like_pytorch():
    (ours, w_ours), (theirs, w_theirs) = (custom_optimizer_program(chainrule),
                                          custom_optimizer_program(real_torch))
    numpy.testing.assert_allclose(ours, theirs, rtol=1e-5)
    numpy.testing.assert_allclose(w_ours, w_theirs, rtol=1e-5)


def test_required_hyperparameter_missing_is_pytorchs_error():
    from chainrule.optim.optimizer import Optimizer, required

    with pytest.raises(ValueError, match="required optimization parameter lr"):
        Optimizer([chainrule.zeros(2, requires_grad=True)], dict(lr=required))
    assert repr(required) == repr(importlib.import_module("torch.optim.optimizer").required)


@pytest.mark.parametrize("name", ["contiguous_format", "preserve_format", "channels_last",
                                  "channels_last_3d"])
def test_memory_formats_exist_and_change_nothing(name):
    fmt = getattr(chainrule, name)
    assert isinstance(fmt, chainrule.memory_format) and repr(fmt) == repr(getattr(real_torch, name))
    x = chainrule.arange(6.0).reshape(1, 1, 2, 3)
    assert chainrule.empty_like(x, memory_format=fmt).shape == x.shape
    numpy.testing.assert_array_equal(x.contiguous(memory_format=fmt).numpy(), x.numpy())


def test_a_list_of_zero_d_tensors_is_an_array():
    """rasbt/machine-learning-book ch12: `accuracy_hist[epoch] += is_correct.sum()` then
    `ax.plot(accuracy_hist)`: NumPy (and matplotlib) must read a list of 0-d tensors."""
    history = [0] * 3
    for epoch in range(3):
        history[epoch] += (chainrule.tensor([1.0, 0.0, 1.0]) == 1).float().sum()
        history[epoch] /= 4
    numpy.testing.assert_allclose(numpy.asarray(history), [0.5, 0.5, 0.5])
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    line, = plt.figure().add_subplot().plot(history)
    numpy.testing.assert_allclose(line.get_ydata(), [0.5, 0.5, 0.5])
    plt.close("all")


def _both(build):
    """build(torch) under chainrule and PyTorch, as NumPy arrays."""
    def arrays(result):
        return [numpy.asarray(r.detach().numpy(), dtype=float) for r in result]
    return arrays(build(chainrule)), arrays(build(real_torch))


@pytest.mark.parametrize("given", ["probs", "logits"])
def test_categorical_like_pytorch(given):
    """A policy's `Categorical(logits=...)`: log_prob of chosen actions, entropy, and the
    gradient of log_prob · reward (REINFORCE) reaching the logits."""
    raw = numpy.array([[0.2, 1.5, -0.3], [2.0, 0.1, 0.4]])

    def build(torch):
        values = torch.tensor(raw if given == "logits" else numpy.exp(raw), requires_grad=True)
        dist = torch.distributions.Categorical(**{given: values})
        chosen = torch.tensor([1, 0])
        loss = -(dist.log_prob(chosen) * torch.tensor([1.0, -2.0])).sum() - dist.entropy().sum()
        loss.backward()
        return dist.probs, dist.logits, dist.log_prob(chosen), dist.entropy(), values.grad
    for ours, theirs in zip(*_both(build)):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_categorical_samples_follow_probs():
    chainrule.manual_seed(0)
    dist = chainrule.distributions.Categorical(probs=chainrule.tensor([0.1, 0.6, 0.3]))
    draws = dist.sample((20000,))
    assert tuple(draws.shape) == (20000,) and draws.dtype == numpy.int64
    numpy.testing.assert_allclose(numpy.bincount(draws.numpy(), minlength=3) / 20000,
                                  [0.1, 0.6, 0.3], atol=0.015)
    batch = chainrule.distributions.Categorical(logits=chainrule.zeros(4, 5)).sample((2,))
    assert tuple(batch.shape) == (2, 4) == tuple(real_torch.distributions.Categorical(
        logits=real_torch.zeros(4, 5)).sample((2,)).shape)


def test_normal_like_pytorch():
    """A VAE's `Normal(mu, std)`: log_prob, entropy, kl_divergence against N(0, 1), and
    rsample's gradient reaching mu and std."""
    def build(torch):
        mu = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
        std = torch.tensor([1.0, 0.3, 2.5], dtype=torch.float64, requires_grad=True)
        dist = torch.distributions.Normal(mu, std)
        prior = torch.distributions.Normal(torch.zeros(3, dtype=torch.float64), 1.0)
        x = torch.tensor([0.0, -0.5, 4.0], dtype=torch.float64)
        kl = torch.distributions.kl_divergence(dist, prior)
        (dist.log_prob(x).sum() + kl.sum()).backward()
        return dist.log_prob(x), dist.entropy(), kl, mu.grad, std.grad, dist.mean, dist.stddev
    for ours, theirs in zip(*_both(build)):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-12)
    chainrule.manual_seed(0)
    mu = chainrule.zeros(2, requires_grad=True)
    draw = chainrule.distributions.Normal(mu, 2.0).rsample((5000,))
    assert tuple(draw.shape) == (5000, 2) and abs(float(draw.std()) - 2.0) < 0.1
    draw.sum().backward()
    numpy.testing.assert_allclose(mu.grad.numpy(), [5000.0, 5000.0])
    assert chainrule.distributions.Normal(mu, 1.0).sample().requires_grad is False


@pytest.mark.parametrize("given", ["probs", "logits"])
def test_bernoulli_like_pytorch(given):
    raw = numpy.array([0.2, 0.7, 0.9]) if given == "probs" else numpy.array([-1.0, 0.5, 3.0])

    def build(torch):
        values = torch.tensor(raw, requires_grad=True)
        dist = torch.distributions.Bernoulli(**{given: values})
        other = torch.distributions.Bernoulli(probs=torch.tensor([0.5, 0.5, 0.1],
                                                                 dtype=torch.float64))
        x = torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64)
        kl = torch.distributions.kl_divergence(dist, other)
        (dist.log_prob(x).sum() + dist.entropy().sum() + kl.sum()).backward()
        return dist.log_prob(x), dist.entropy(), kl, dist.mean, values.grad
    for ours, theirs in zip(*_both(build)):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-12)


def test_distributions_at_pytorchs_import_paths():
    from chainrule.compat.torch_alias import torch_as_chainrule

    with torch_as_chainrule():
        from torch.distributions import Normal
        from torch.distributions.categorical import Categorical
        from torch.distributions.kl import kl_divergence
    assert Categorical is chainrule.distributions.Categorical
    assert kl_divergence(Normal(0.0, 1.0), Normal(0.0, 1.0)).item() == 0.0
    with pytest.raises(NotImplementedError, match="kl_divergence: no closed form"):
        kl_divergence(Normal(0.0, 1.0), Categorical(logits=chainrule.zeros(2)))


def test_gradient_penalty_with_only_inputs_and_materialize_grads():
    """WGAN-GP's gradient penalty passes PyTorch's deprecated `only_inputs=True`;
    `materialize_grads=True` gives zeros for an input the outputs do not use."""
    def build(torch):
        weight = torch.tensor([[0.3, -0.7, 1.1]], dtype=torch.float64, requires_grad=True)
        point = torch.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]], dtype=torch.float64,
                             requires_grad=True)
        score = torch.tanh(point ** 2 @ weight.T)
        grads = torch.autograd.grad(outputs=score, inputs=point,
                                    grad_outputs=torch.ones_like(score), create_graph=True,
                                    retain_graph=True, only_inputs=True)[0]
        unused = torch.zeros(2, dtype=torch.float64, requires_grad=True)
        both = torch.autograd.grad(score.sum(), [point, unused], retain_graph=True,
                                   materialize_grads=True)
        penalty = ((grads.norm(2, dim=1) - 1) ** 2).mean()
        penalty.backward()
        return grads, weight.grad, both[0], both[1]
    for ours, theirs in zip(*_both(build)):
        numpy.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_data_parallel_wraps_the_module():
    """`model = nn.DataParallel(model)`: on a machine without GPUs PyTorch calls the module
    on the whole batch; the state_dict keys get the `module.` prefix."""
    def build(torch):
        inner = torch.nn.Linear(3, 2)
        wrapped = torch.nn.DataParallel(inner)
        x = torch.ones(4, 3)
        return wrapped, inner, x
    ours, inner, x = build(chainrule)
    theirs = build(real_torch)[0]
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["module.weight", "module.bias"]
    numpy.testing.assert_array_equal(ours(x).numpy(), inner(x).numpy())
    assert ours.module is inner and chainrule.nn.parallel.DataParallel is chainrule.nn.DataParallel


def test_jit_decorators_return_what_they_get():
    @chainrule.jit.script
    def double(x):
        return x * 2
    assert double(chainrule.ones(2)).tolist() == [2.0, 2.0]
    model = chainrule.nn.Linear(2, 2)
    assert chainrule.jit.trace(model, chainrule.ones(1, 2)) is model
    assert chainrule.jit.ignore(double) is double and not chainrule.jit.is_scripting()


def test_a_scripted_module_saves_and_loads_as_the_pytorch_recipe_does(tmp_path):
    """The "saving and loading models" recipe: script, `.save`, `torch.jit.load`, eval."""
    model = chainrule.nn.Sequential(chainrule.nn.Linear(2, 3), chainrule.nn.ReLU())
    scripted = chainrule.jit.script(model)
    scripted.save(str(tmp_path / "model_scripted.pt"))
    loaded = chainrule.jit.load(str(tmp_path / "model_scripted.pt"))
    loaded.eval()
    x = chainrule.ones(1, 2)
    numpy.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
    chainrule.jit.save(model, tmp_path / "again.pt")
    assert isinstance(chainrule.jit.load(tmp_path / "again.pt"), chainrule.nn.Sequential)


def test_a_torchscript_archive_from_pytorch_is_refused_in_one_line(tmp_path):
    import zipfile
    with zipfile.ZipFile(tmp_path / "ts.pt", "w") as archive:
        archive.writestr("ts/code/__torch__.py", "def forward(self, x): ...")
    with pytest.raises(RuntimeError, match="TorchScript archive written by PyTorch"):
        chainrule.jit.load(str(tmp_path / "ts.pt"))
