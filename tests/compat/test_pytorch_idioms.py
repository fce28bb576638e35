"""Small programs written the way PyTorch tutorials write them, run with only the import
changed (`import chainrule as torch`), against the same program under PyTorch."""
import numpy
import torch as real_torch

import chainrule


def linear_regression_by_hand(torch):
    """Manual gradient descent through `.data`, device boilerplate, f-string formatting."""
    device = torch.device("cuda" if torch.cuda.is_available() else
                          "mps" if torch.backends.mps.is_available() else "cpu")
    torch.manual_seed(0)
    x = torch.linspace(-1, 1, 50, device=device).unsqueeze(1)
    y = 3 * x - 0.5 + 0.1 * torch.sin(7 * x)
    w = torch.zeros(1, 1, requires_grad=True, device=device)
    b = torch.zeros(1, requires_grad=True, device=device)
    lines = []
    for step in range(100):
        loss = ((x.mm(w) + b - y) ** 2).mean()
        loss.backward()
        w.data -= 0.1 * w.grad.data
        b.data.sub_(0.1 * b.grad)
        w.grad.zero_()
        b.grad.zero_()
        if step % 25 == 0:
            lines.append(f"step {step}: loss {loss.item():.4f} {loss:.3f}")
    return lines, w.detach().cpu().numpy(), b.detach().numpy()


def causal_attention_and_sampling(torch):
    """A character model's idioms: tril masks, masked_fill, split, softmax, multinomial."""
    torch.manual_seed(1)
    batch, steps, width = 2, 5, 8
    x = torch.randn(batch, steps, 3 * width)
    q, k, v = x.split(width, dim=2)
    scores = q @ k.transpose(-2, -1) * width ** -0.5
    mask = torch.tril(torch.ones(steps, steps))
    scores = scores.masked_fill(mask[:steps, :steps] == 0, float("-inf"))
    weights = torch.nn.functional.softmax(scores, dim=-1)
    out = (weights @ v).contiguous().view(batch, steps * width)
    logits = out[:, -width:]
    probs = torch.softmax(logits, dim=-1)
    picked = torch.multinomial(probs, num_samples=1)
    assert picked.shape == (batch, 1) and picked.dtype == torch.long
    noise = torch.randn_like(out)
    total = out.sum(1, keepdim=True) + 0 * noise.sum()
    index = torch.tensor(3)
    return out.numpy(), total.numpy(), ["a", "b", "c", "d", "e"][index], int(out.argmax())


def classifier_bookkeeping(torch):
    """eq / sum / item accuracy, type casts, torch.no_grad, chunk, narrow, new_zeros."""
    torch.manual_seed(2)
    logits = torch.randn(12, 4)
    labels = torch.tensor([0, 1, 2, 3] * 3)
    with torch.no_grad():
        predicted = logits.argmax(dim=1)
        correct = predicted.eq(labels).sum().item()
        accuracy = 100.0 * correct / labels.nelement()
    halves = torch.chunk(logits, 2)
    window = logits.narrow(1, 1, 2).type(torch.float64)
    table = logits.new_zeros(2, 3)
    return (accuracy, tuple(tuple(h.shape) for h in halves), window.dtype == torch.double,
            table.dtype == torch.float, f"{accuracy:+.2f}", logits.t().mm(logits).shape)


def _same(a, b):
    if isinstance(a, numpy.ndarray):
        numpy.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for p, q in zip(a, b):
            _same(p, q)
    else:
        assert a == b or tuple(a) == tuple(b), (a, b)


def test_regression_by_hand_runs_and_learns_as_torch():
    ours, theirs = linear_regression_by_hand(chainrule), linear_regression_by_hand(real_torch)
    assert ours[0] == theirs[0]
    _same(ours[1:], theirs[1:])


def test_attention_idioms_run():
    ours = causal_attention_and_sampling(chainrule)
    assert ours[0].shape == (2, 40) and ours[2] == "d"


def test_classifier_bookkeeping_runs():
    ours = classifier_bookkeeping(chainrule)
    assert ours[1:] == (((6, 4), (6, 4)), True, True, f"{ours[0]:+.2f}", (4, 4))


def test_top_level_in_place_activation_forms_match_torch():
    for name, args in (("selu_", ()), ("celu_", ()), ("threshold_", (0.0, 9.0))):
        ours, theirs = chainrule.tensor([-1.0, 0.5]), real_torch.tensor([-1.0, 0.5])
        getattr(chainrule, name)(ours, *args)
        getattr(real_torch, name)(theirs, *args)
        numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
