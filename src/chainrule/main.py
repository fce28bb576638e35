"""`make run`: the main job. Trains an MLP on the embedded `digits` images (8×8 pixels),
prints the test accuracy and where the model was saved, then predicts a few test images
and draws them, so you can see what the network saw.
"""
from __future__ import annotations

import sys

from .cli import main as cli_main
from .train import pipeline

SHADES = " .:-=+*#%@"


def draw(pixels, pixel_max: float) -> list[str]:
    """An 8×8 image as text, darker characters for brighter pixels."""
    rows = []
    for row in pixels.reshape(pixels.shape[-2:]):
        rows.append("".join(SHADES[min(len(SHADES) - 1, int(v / pixel_max * len(SHADES)))] * 2
                            for v in row))
    return rows


def main() -> int:
    code = cli_main(["train", "--data", "digits", "--model", "mlp", "--out", "runs/digits-mlp",
                     "--overwrite"])
    if code:
        return code
    model, encoder, classes, _ = pipeline.load_model("runs/digits-mlp/model.safetensors")
    from .data import load_dataset
    x, y = load_dataset("digits", seed=0).test
    print("\npredictions on five test images:")
    for pixels, truth, (label, p) in zip(x[:5], y[:5],
                                          pipeline.predict(model, encoder, classes, x[:5])):
        print("\n".join(draw(pixels, encoder.pixel_max)))
        print(f"predicted {label} (p={p:.2f}), true {classes[int(truth)]}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
