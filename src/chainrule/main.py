"""`make run`: the main job. For now a tiny network learns XOR by gradient descent."""
from __future__ import annotations

import chainrule as cr
from chainrule import nn


def main() -> None:
    cr.manual_seed(0)
    inputs = cr.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    targets = cr.tensor([[0.0], [1.0], [1.0], [0.0]])
    model = nn.Sequential(nn.Linear(2, 8), _Tanh(), nn.Linear(8, 1))
    lr = 0.2
    for step in range(2001):
        loss = ((model(inputs) - targets) ** 2).mean()
        model.zero_grad()
        loss.backward()
        with cr.no_grad():
            for p in model.parameters():
                p.data -= lr * p.grad.data
        if step % 400 == 0:
            print(f"step {step:4d}  loss {loss.item():.5f}")
    print("predictions:", [round(v, 3) for v in model(inputs).numpy().ravel().tolist()])


class _Tanh(nn.Module):
    def forward(self, x):
        return x.tanh()


if __name__ == "__main__":
    main()
