"""Draw the pictures of docs/tour.md with chainrule itself (run from the repository root):

    .venv/bin/python scripts/make_tour_images.py [--out docs/images]

Every picture is computed, none is drawn by hand: rerun this after changing the engine,
the layers or the explain tools, and the tour shows what the code does now.
"""
from __future__ import annotations

import argparse
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import chainrule as cr
import chainrule.explain
from chainrule import nn
from chainrule.data import load_dataset
from chainrule.nn import functional as F


def digit_pixels(out: str) -> None:
    """The first training digit as the grid of numbers the network reads."""
    images, labels = load_dataset("digits", seed=0).train
    pixels = images[0, 0]
    fig, (grid, row) = plt.subplots(2, 1, figsize=(6.4, 7.4),
                                    gridspec_kw={"height_ratios": (8, 1.3)},
                                    constrained_layout=True)
    grid.imshow(pixels, cmap="gray_r", vmin=0, vmax=16)
    for (i, j), value in np.ndenumerate(pixels):
        grid.text(j, i, str(value), ha="center", va="center", fontsize=11,
                  color="white" if value > 8 else "black")
    grid.set_xticks(range(8))
    grid.set_yticks(range(8))
    grid.set_title(f"A handwritten {labels[0]}: 8×8 pixels, each a number from 0 to 16",
                   fontsize=11)
    onehot = np.eye(10, dtype=int)[labels[0]]
    row.imshow(onehot[None], cmap="Greens", vmin=0, vmax=1.3)
    for j, value in enumerate(onehot):
        row.text(j, 0, str(value), ha="center", va="center", fontsize=11)
    row.set_yticks([])
    row.set_xticks(range(10))
    row.set_xlabel("digit class")
    row.set_title(f"its label, {labels[0]}, as a one-hot vector", fontsize=11)
    fig.savefig(out, dpi=100)
    plt.close(fig)


def tour_model():
    """The tour's network and batch (section 2), built the same way."""
    images, labels = load_dataset("digits", seed=0).train
    x = cr.tensor(images[:4].reshape(4, 64) / 16.0)
    y = cr.tensor(labels[:4])
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10)).double()
    return model, x, y


def graph(out: str) -> None:
    model, x, y = tour_model()
    with cr.explain.watch(model):
        loss = F.cross_entropy(model(x), y)
    cr.explain.draw(loss, grads=True, modules=model, collapse=False, path=out, format="png")


def lr_range(out: str) -> None:
    images, labels = load_dataset("digits", seed=0).train
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    train_x = (images.reshape(len(images), 64) / 16.0).astype(np.float32)
    loader = cr.data.DataLoader(cr.data.TensorDataset(train_x, labels), batch_size=32,
                                shuffle=True, seed=0)
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    found = cr.explain.lr_range_test(model, loader, opt, start_lr=1e-4, end_lr=10, num_steps=100)
    found.plot(out, title="Learning-rate range test: the tour's network on the digits, "
                       "SGD with momentum")


# chapter 9: the doctor's first finding on planted faults (picture file → fault)
DOCTOR_PICTURES = {"doctor_lr.png": "lr-x100", "doctor_vanishing.png": "sigmoid-20",
                   "doctor_dead.png": "relu-bias-5", "doctor_mislabelled.png": "labels-flipped",
                   "doctor_overfit.png": "overfit"}


def doctor_picture(fault: str):
    """The picture of the doctor's first finding on the digits run with `fault` planted."""
    from chainrule.explain import doctor, doctor_faults
    from chainrule.explain.doctor_plots import draw

    def make(path: str) -> None:
        draw(doctor.diagnose(doctor_faults.planted_run(fault))[0], path)
    return make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("docs", "images"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    steps = [("digit_pixels.png", digit_pixels),
             ("descent.png", lambda path: cr.explain.draw_descent("logreg", out=path)),
             ("graph.png", graph),
             ("lr_range.png", lr_range)]
    steps += [(name, doctor_picture(fault)) for name, fault in DOCTOR_PICTURES.items()]
    for name, make in steps:
        path = os.path.join(args.out, name)
        make(path)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
