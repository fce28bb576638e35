"""The `chainrule` command: train, evaluate, predict (explain and bench hook in here too).

Bad input ends with one line on stderr and a non-zero exit, never a traceback
(`--debug` shows it).
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy

EXIT_BAD_INPUT = 2
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".pgm")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chainrule",
                                     description="Train, evaluate and inspect neural networks.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train a model recipe on a data set")
    train.add_argument("--data", default="digits",
                       help="data set: digits, mnist, fashion-mnist, mnist1d, movie-reviews, "
                            "tweets, or idx:DIR, csv:FILE, text:FILE, images:DIR")
    train.add_argument("--model", default="mlp",
                       help="mlp, cnn, bow-mlp, embed-mlp, text-cnn, lstm, gru, or FILE.py")
    train.add_argument("--epochs", type=int, help="passes over the training data "
                       "(default: the recipe's)")
    train.add_argument("--batch-size", type=int, help="examples per step (default: the recipe's)")
    train.add_argument("--optimizer", choices=["sgd", "adam", "adamw", "rmsprop", "adagrad"])
    train.add_argument("--lr", type=float, help="learning rate (default: the recipe's)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--out", help="output directory (default runs/DATA-MODEL)")
    train.add_argument("--resume", action="store_true",
                       help="continue from the checkpoint in the output directory")
    train.add_argument("--no-progress", action="store_true", help="no progress bars")
    train.add_argument("--report", help="write an HTML training report to this file")

    evaluate = commands.add_parser("evaluate", help="accuracy, F1 and confusion matrix")
    evaluate.add_argument("model_file")
    evaluate.add_argument("--data", default="digits")
    evaluate.add_argument("--seed", type=int, default=0, help="the seed the model was trained "
                          "with (it fixes the split)")
    evaluate.add_argument("--split", choices=["train", "val", "test"], default="test")

    predict = commands.add_parser("predict", help="label new images or sentences")
    predict.add_argument("model_file")
    predict.add_argument("inputs", nargs="*", help="image files, or sentences; '-' reads "
                         "sentences from stdin")
    predict.add_argument("--file", help="a text file with one sentence per line")

    from .explain.cli import add_parser as add_explain
    add_explain(commands)
    from .bench.cli import add_parser as add_bench
    add_bench(commands)
    from .compat.cli import add_parser as add_run
    add_run(commands)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if hasattr(args, "func"):  # subcommands that carry their own runner (explain, bench)
            return args.func(args) or 0
        return {"train": _train, "evaluate": _evaluate, "predict": _predict}[args.command](args)
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - one line for the user; --debug shows all
        if args.debug or not _is_user_error(err):
            raise
        print(f"chainrule: error: {_one_line(err)}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _is_user_error(err: Exception) -> bool:
    return isinstance(err, (ValueError, OSError, RuntimeError, KeyError, TypeError))


def _one_line(err: Exception) -> str:
    text = str(err) or type(err).__name__
    if isinstance(err, FileNotFoundError) and err.filename:
        text = f"no such file: {err.filename}"
    return " ".join(text.split())


def _train(args) -> int:
    from .train import pipeline
    out = args.out or os.path.join("runs", f"{_slug(args.data)}-{_slug(args.model)}")
    recorder = None
    if args.report:
        from .explain.report import ReportRecorder
        recorder = ReportRecorder()
    result = pipeline.train(args.data, args.model, epochs=args.epochs,
                            batch_size=args.batch_size, optimizer=args.optimizer, lr=args.lr,
                            seed=args.seed, out_dir=out, resume=args.resume,
                            progress=not args.no_progress,
                            callbacks=[recorder] if recorder else ())
    print(f"test accuracy {result['test_accuracy']:.4f}  macro F1 {result['macro_f1']:.4f}  "
          f"({result['seconds']:.1f} s)")
    print(f"model saved to {result['model_path']}")
    if args.report:
        from .explain.report import write_training_report
        print(f"report written to {write_training_report(args.report, result, recorder)}")
    return 0


def _slug(name: str) -> str:
    base = os.path.basename(name.rstrip("/")).split(":")[-1]
    return os.path.splitext(base)[0] or "data"


def _evaluate(args) -> int:
    from .train import pipeline
    metrics = pipeline.evaluate(args.model_file, args.data, seed=args.seed, split=args.split)
    print(f"{args.split} accuracy {metrics['accuracy']:.4f}  macro precision "
          f"{metrics['macro_precision']:.4f}  recall {metrics['macro_recall']:.4f}  "
          f"F1 {metrics['macro_f1']:.4f}")
    print("confusion matrix (rows: true class, columns: predicted):")
    print(numpy.array2string(metrics["confusion"], max_line_width=200))
    return 0


def _predict(args) -> int:
    from .train import pipeline
    model, encoder, classes, config = pipeline.load_model(args.model_file)
    inputs = list(args.inputs)
    if args.file:
        with open(args.file, encoding="utf-8") as handle:
            inputs += [line.strip() for line in handle if line.strip()]
    if inputs == ["-"] or (not inputs and not sys.stdin.isatty()):
        inputs = [line.strip() for line in sys.stdin if line.strip()]
    if not inputs:
        raise ValueError("predict: give image files or sentences (or '-' to read stdin)")
    if config["kind"] == "text":
        raw = numpy.asarray(inputs, dtype=object)
    else:
        raw = _read_images(inputs, config, encoder)
    for name, (label, probability) in zip(inputs, pipeline.predict(model, encoder, classes, raw)):
        print(f"{label}\t{probability:.3f}\t{name}")
    return 0


def _read_images(paths, config, encoder) -> numpy.ndarray:
    """Image files as the raw pixel arrays the encoder expects (the training pixel scale)."""
    from PIL import Image
    if "image_shape" not in config:
        raise ValueError("predict: this model takes signals, not image files")
    channels, height, width = config["image_shape"]
    images = []
    for path in paths:
        if not path.lower().endswith(IMAGE_SUFFIXES):
            raise ValueError(f"predict: {path} is not an image file ({', '.join(IMAGE_SUFFIXES)})")
        with Image.open(path) as image:
            image = image.convert("L" if channels == 1 else "RGB")
            if image.size != (width, height):
                raise ValueError(f"predict: {path} is {image.size[0]}x{image.size[1]} pixels "
                                 f"but the model expects {width}x{height}")
            pixels = numpy.asarray(image, dtype=numpy.float32)
        pixels = pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
        images.append(pixels / 255.0 * encoder.pixel_max)
    return numpy.stack(images)


if __name__ == "__main__":
    sys.exit(main())
