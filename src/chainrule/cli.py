"""The `chainrule` command: train, evaluate, predict (explain and bench hook in here too).

Bad input ends with one line on stderr and a non-zero exit, never a traceback
(`--debug` shows it).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys

import numpy

from . import __version__
from .flags import MAX_SEED, int_in, non_negative_float, positive_float
from .train import progress
from .train.run import SCHEDULERS

EXIT_RUN_FAILED = 1   # training stopped on a numerical fault (the last checkpoint is kept)
EXIT_BAD_INPUT = 2
# What to install when an optional package is missing (by its import name).
INSTALL_HINTS = {"tqdm": "pip install 'tqdm>=4.60,<5'",
                 "PIL": "pip install 'pillow>=9,<14'",
                 "safetensors": "pip install 'safetensors>=0.4,<1'",
                 "matplotlib": "pip install 'matplotlib>=3.6,<4'",
                 "torch": "pip install torch==2.13.0",
                 "sklearn": "pip install 'scikit-learn>=1.3,<2'"}


DEBUG_HELP = "show the full traceback when something fails"
# The end of each `--help`: commands to copy. Keyed by the subcommand ("explain lr").
EXAMPLES = {
    "chainrule": """examples:
  chainrule train --data digits --model mlp         train, and save runs/digits-mlp/
  chainrule evaluate runs/digits-mlp/model.safetensors
  chainrule predict runs/digits-mlp/model.safetensors digit.png
  chainrule summary runs/digits-mlp/model.safetensors
  chainrule explain chain
  chainrule train --help                            every flag of one command
docs/cli.md in the source tree describes every command and flag.""",
    "train": """examples:
  chainrule train                                   the digits MLP (a few seconds)
  chainrule train --data mnist --model cnn --report
  chainrule train --data csv:table.csv --epochs 50 --early-stopping 5
  chainrule train --config runs/digits-mlp/run.toml --seed 1 --out runs/seed1
                                                    repeat a run with one change
  chainrule train --out runs/a --resume --epochs 30 continue a run to 30 epochs
  chainrule train --tensorboard && tensorboard --logdir runs
  mpirun -n 4 chainrule train --data mnist --model cnn
                                                    4 processes, each a quarter of every
                                                    batch (chainrule[mpi]; docs/distributed.md)

a run folder (--out, default runs/DATA-MODEL) gets run.toml, metrics.csv, model.safetensors,
best.safetensors, checkpoint.safetensors (and tensorboard/, report.html when asked).""",
    "evaluate": """examples:
  chainrule evaluate runs/digits-mlp/model.safetensors
  chainrule evaluate runs/digits-mlp/best.safetensors --split val
  chainrule evaluate runs/mnist-cnn/model.safetensors --data mnist""",
    "predict": """examples:
  chainrule predict runs/mnist-cnn/model.safetensors digit.png photo.jpg
  chainrule predict runs/table-mlp/model.safetensors new_rows.csv
  echo "a gripping, funny film" | chainrule predict runs/movie-reviews-text-cnn/model.safetensors -
  chainrule predict runs/tweets-bow-mlp/model.safetensors --file sentences.txt

images are converted to the model's colours and size, and inverted when their background is
light but the training images' was dark (each change is said on stderr).""",
    "export": """examples:
  chainrule export runs/mnist-cnn/model.safetensors --onnx mnist-cnn.onnx
  chainrule export runs/movie-reviews-text-cnn/model.safetensors --onnx text-cnn.onnx --opset 17

the graph takes the encoded input (what the model file's encoder makes of an image or a
sentence) with a dynamic batch axis, and gives the logits.""",
    "summary": """examples:
  chainrule summary runs/digits-mlp/model.safetensors
  chainrule summary cnn --data mnist""",
    "explain": """examples:
  chainrule explain chain
  chainrule explain descent --out descent.png
  chainrule explain lr --data digits --model mlp""",
    "explain chain": """examples:
  chainrule explain chain
  chainrule explain chain --seed 3 --lr 0.5""",
    "explain descent": """examples:
  chainrule explain descent                         writes runs/explain/descent.png
  chainrule explain descent --model mlp --param 0.weight --index 3,27 --out w.svg""",
    "explain lr": """examples:
  chainrule explain lr                              writes runs/explain/lr_range.png
  chainrule explain lr --data mnist --model cnn --optimizer sgd --out mnist_lr.png""",
    "run": """examples:
  chainrule run train.py                            a PyTorch script, on chainrule
  chainrule run train.py --epochs 3                 arguments after the script go to it""",
    "bench": """examples:
  chainrule bench --quick                           check that every workload runs
  chainrule bench --workloads W2,W3 --frameworks chainrule,torch
  chainrule bench --json bench.json""",
}


class UsageError(Exception):
    """A command line argparse refused (unknown flag, a value out of range)."""


class _Parser(argparse.ArgumentParser):
    """argparse whose refusals are one line, like every other chainrule error."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="chainrule", description="Train, evaluate and inspect neural networks.",
                     epilog=EXAMPLES["chainrule"], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}",
                        help="print the version and exit")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     help="what to do; `chainrule COMMAND --help` for its flags")

    train = commands.add_parser("train", help="train a model recipe on a data set")
    train.add_argument("--data", help="data set (default digits): digits, mnist, fashion-mnist, "
                       "mnist1d, movie-reviews, tweets, or idx:DIR, csv:FILE, text:FILE, "
                       "images:DIR")
    train.add_argument("--model", help="mlp (the default), cnn, bow-mlp, embed-mlp, text-cnn, "
                       "lstm, gru, or FILE.py")
    train.add_argument("--epochs", type=int_in(1, 1_000_000), help="passes over the training "
                       "data (default: the recipe's); with --resume, the new total")
    train.add_argument("--batch-size", type=int_in(1, 1 << 24),
                       help="examples per step (default: the recipe's); under mpirun, "
                       "split across the ranks")
    train.add_argument("--optimizer", choices=["sgd", "adam", "adamw", "rmsprop", "adagrad"],
                       help="the update rule (default: the recipe's, adamw)")
    train.add_argument("--lr", type=positive_float, help="learning rate (default: the recipe's)")
    train.add_argument("--seed", type=int_in(0, MAX_SEED), help="fixes the split, the initial "
                       "weights and the shuffling (default 0)")
    train.add_argument("--out", help="output directory (default runs/DATA-MODEL)")
    train.add_argument("--resume", action="store_true",
                       help="continue the run whose checkpoint is in the output directory")
    train.add_argument("--overwrite", action="store_true",
                       help="replace a run already in the output directory")
    train.add_argument("--detect-anomaly", action="store_true",
                       help="anomaly mode: name the op that first makes a NaN or infinity")
    train.add_argument("--weight-decay", type=non_negative_float,
                       help="L2 penalty / decoupled weight decay (default: the recipe's)")
    train.add_argument("--scheduler", choices=list(SCHEDULERS), help="how the learning rate "
                       "moves: " + "; ".join(f"{k}: {v}" for k, v in SCHEDULERS.items())
                       .replace("%", "%%") +
                       " (default: the recipe's, cosine)")
    train.add_argument("--clip-grad-norm", type=positive_float, metavar="MAX",
                       help="scale the gradients down whenever their total norm exceeds MAX")
    train.add_argument("--early-stopping", type=int_in(1, 1_000_000), metavar="PATIENCE",
                       help="stop after PATIENCE epochs without a better validation loss, and "
                            "keep the best epoch's weights")
    train.add_argument("--device", choices=["cpu", "cuda"],
                       help="where to train (default cpu; cuda needs CuPy and an NVIDIA GPU)")
    train.add_argument("--config", metavar="FILE.toml", help="read settings from a TOML file "
                       "(name = value, names as these flags); flags given here override it; "
                       "every run folder gets its run.toml")
    train.add_argument("--tensorboard", action="store_true", help="also write TensorBoard "
                       "event files into the run folder (needs: pip install "
                       "'chainrule[tensorboard]')")
    train.add_argument("--no-progress", action="store_true",
                       help="no progress bar (there is none anyway when output is not a "
                            "terminal: then one line per epoch)")
    loudness = train.add_mutually_exclusive_group()
    loudness.add_argument("--quiet", "-q", action="store_true",
                          help="print only the final results")
    loudness.add_argument("--verbose", "-v", action="store_true",
                          help="also print every resolved setting")
    train.add_argument("--report", nargs="?", const="", metavar="FILE.html",
                       help="write an HTML training report (default: report.html in the run "
                            "folder)")
    train.add_argument("--instruments", type=int_in(0, 1_000_000), metavar="N",
                       help="read the instruments (gradient noise, update ratios, dead units, "
                            "sharpness, ...) every N steps into instruments.json, for "
                            "`chainrule doctor` (default: 10 with --report, else off)")

    summary = commands.add_parser("summary", help="each layer's output shape and parameters")
    summary.add_argument("model", help="a model file (model.safetensors), or a recipe name "
                         "(mlp, cnn, ...) to see it built for --data")
    summary.add_argument("--data", help="with a recipe name: the data set (default digits)")

    evaluate = commands.add_parser("evaluate", help="accuracy, F1 and confusion matrix")
    evaluate.add_argument("model_file", help="a model file (model.safetensors or "
                          "best.safetensors in a run folder)")
    evaluate.add_argument("--data", help="data set (default: the one the model was trained on)")
    evaluate.add_argument("--seed", type=int_in(0, MAX_SEED), help="the seed that fixes the "
                          "split (default: the model's; another one is refused)")
    evaluate.add_argument("--split", choices=["train", "val", "test"], default="test",
                          help="which part of the data set to score (default test)")
    evaluate.add_argument("--model", help="the FILE.py a model from user code was built with")

    predict = commands.add_parser("predict", help="label new images, sentences or CSV rows")
    predict.add_argument("model_file", help="a model file (model.safetensors or "
                         "best.safetensors in a run folder)")
    predict.add_argument("inputs", nargs="*", help="image files, CSV files (one input a row, "
                         "for models trained on csv: data or signals), or sentences; '-' "
                         "reads sentences from stdin")
    predict.add_argument("--file", help="a text file with one sentence per line")
    predict.add_argument("--model", help="the FILE.py a model from user code was built with")

    from .explain.cli import add_parser as add_explain
    add_explain(commands)
    from .bench.cli import add_parser as add_bench
    add_bench(commands)
    from .train.export import add_parser as add_export
    add_export(commands)
    from .compat.cli import add_parser as add_run
    add_run(commands)
    from .explain.doctor_cli import add_parser as add_doctor
    add_doctor(commands)
    for name, command in _subcommands(parser):
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help=DEBUG_HELP)  # also after the subcommand
        command.epilog = EXAMPLES.get(name, command.epilog)
        command.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def _subcommands(parser, prefix=""):
    """(name, parser) of every subcommand, nested ones as "explain lr"."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                full = f"{prefix}{name}"
                yield full, command
                yield from _subcommands(command, full + " ")


def main(argv=None) -> int:
    progress.ascii_fallback(sys.stdout, sys.stderr)
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
        if getattr(args, "config", None):
            args = parser.parse_args(_with_config(argv, args.command, args.config, parser))
    except UsageError as err:
        return _fail(str(err), EXIT_BAD_INPUT)
    except ValueError as err:  # an unreadable --config file
        return _fail(_one_line(err), EXIT_BAD_INPUT)
    try:
        if hasattr(args, "func"):  # subcommands that carry their own runner (explain, bench)
            return args.func(args) or 0
        return {"train": _train, "evaluate": _evaluate, "predict": _predict,
                "summary": _summary}[args.command](args)
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - one line for the user; --debug shows all
        if args.debug or not _is_user_error(err):
            raise
        return _fail(_one_line(err), _exit_code(err))


def _with_config(argv: list, command: str, path: str, parser) -> list:
    """argv with the --config file's settings inserted as flags right after the
    subcommand, so that argparse checks them and the flags typed after them win."""
    from .train.config import ConfigError, read_config
    command_parser = dict(_subcommands(parser))[command]
    options = command_parser._option_string_actions
    inserted = []
    for key, value in read_config(path).items():
        flag = "--" + key.replace("_", "-")
        if flag not in options or key in ("config", "help", "debug"):
            known = sorted(o[2:] for o in options if o.startswith("--")
                           and o not in ("--config", "--help", "--debug"))
            raise ConfigError(f"--config: {path}: {key!r} is not a setting of `chainrule "
                              f"{command}`; known: {', '.join(known)}")
        if isinstance(value, bool):
            inserted += [flag] if value else []
        else:
            inserted += [flag, str(value)]
    at = argv.index(command) + 1
    return argv[:at] + inserted + argv[at:]


def _fail(message: str, code: int) -> int:
    from .train.distributed import abort, rank_prefix
    print(f"chainrule: error: {rank_prefix()}{message}", file=sys.stderr)
    abort(code)  # under mpirun: stop the other ranks too
    return code


def _is_user_error(err: Exception) -> bool:
    return isinstance(err, (ValueError, OSError, RuntimeError, KeyError, TypeError,
                            ImportError, MemoryError, RecursionError))


def _exit_code(err: Exception) -> int:
    from .train.trainer import NonFiniteLossError
    return EXIT_RUN_FAILED if isinstance(err, NonFiniteLossError) else EXIT_BAD_INPUT


def _one_line(err: Exception) -> str:
    from .train.trainer import NonFiniteLossError
    text = str(err) or type(err).__name__
    if isinstance(err, FileNotFoundError) and err.filename:
        text = f"no such file: {err.filename}"
    elif isinstance(err, OSError) and err.strerror and err.filename:
        name = str(err.filename)
        text = err.strerror if name in err.strerror else f"{err.strerror}: {name}"
    elif isinstance(err, ModuleNotFoundError) and err.name:
        package = err.name.split(".")[0]
        install = INSTALL_HINTS.get(package, f"pip install {package}")
        text = f"this needs the optional package '{package}', which is not installed: {install}"
    elif isinstance(err, MemoryError):
        text = f"not enough memory ({text})"
    elif isinstance(err, NonFiniteLossError):
        text += "; try a lower --lr, or --detect-anomaly to name the op that made it"
    return " ".join(text.split())


def _train(args) -> int:
    from .train import pipeline
    from .train.progress import NORMAL, QUIET, VERBOSE
    out = args.out or os.path.join("runs", f"{_slug(args.data or pipeline.DEFAULT_DATA)}-"
                                           f"{_slug(args.model or pipeline.DEFAULT_MODEL)}")
    recorder = None
    if args.report is not None:
        from .explain.report import ReportRecorder
        recorder = ReportRecorder()
    every = args.instruments if args.instruments is not None else \
        (10 if args.report is not None else 0)
    instruments = None
    if every:
        from .explain.instruments import InstrumentRecorder
        instruments = InstrumentRecorder(every)
    from .diagnostics.anomaly import set_detect_anomaly
    # Training checks every loss and weight itself (a NaN stops it with one line), so NumPy's
    # overflow warnings would only repeat that in many lines.
    with set_detect_anomaly(args.detect_anomaly), numpy.errstate(all="ignore"), \
            _instruments_kept_on_failure(instruments, out):
        result = pipeline.train(
            args.data, args.model, epochs=args.epochs, batch_size=args.batch_size,
            optimizer=args.optimizer, lr=args.lr, seed=args.seed, out_dir=out,
            resume=args.resume, overwrite=args.overwrite, progress=not args.no_progress,
            callbacks=[c for c in (recorder, instruments) if c is not None],
            weight_decay=args.weight_decay, scheduler=args.scheduler,
            clip_grad_norm=args.clip_grad_norm,
            early_stopping=args.early_stopping, device=args.device,
            tensorboard=args.tensorboard,
            verbosity=QUIET if args.quiet else VERBOSE if args.verbose else NORMAL)
    if not result["leader"]:
        return 0  # under mpirun, rank 0 alone reports
    print(f"test accuracy {result['test_accuracy']:.4f}  macro F1 {result['macro_f1']:.4f}  "
          f"({result['seconds']:.1f} s)")
    print(f"model saved to {result['model_path']}")
    if instruments is not None:
        from .explain.doctor_data import describe_splits
        result["instruments"] = instruments.to_dict(describe_splits(result["splits"],
                                                                    instruments.epochs))
        print(f"instruments written to {instruments.save(out, result['instruments'])}; "
              f"`chainrule doctor {out}` reads them")
    if args.report is not None:
        from .explain.report import write_training_report
        path = args.report or os.path.join(out, "report.html")
        print(f"report written to {write_training_report(path, result, recorder)}")
    return 0


@contextlib.contextmanager
def _instruments_kept_on_failure(instruments, out: str):
    """A run stopped by a NaN or infinite loss still leaves instruments.json for the doctor."""
    from .train.trainer import NonFiniteLossError
    try:
        yield
    except NonFiniteLossError as err:
        if instruments is not None and instruments.instruments is not None:
            path = instruments.save(out, instruments.stopped(str(err)))
            print(f"instruments written to {path}; `chainrule doctor {out}` reads them",
                  file=sys.stderr)
        raise


def _slug(name: str) -> str:
    base = os.path.basename(name.rstrip("/")).split(":")[-1]
    return os.path.splitext(base)[0] or "data"


def _evaluate(args) -> int:
    from .train import pipeline
    from .train.metrics import confusion_table
    metrics = pipeline.evaluate(args.model_file, args.data, seed=args.seed, split=args.split,
                                model_code=args.model)
    print(f"{args.split} accuracy {metrics['accuracy']:.4f}  macro precision "
          f"{metrics['macro_precision']:.4f}  recall {metrics['macro_recall']:.4f}  "
          f"F1 {metrics['macro_f1']:.4f}")
    print("confusion matrix (rows: true class, columns: predicted):")
    print(confusion_table(metrics["confusion"], metrics["classes"]))
    return 0


def _summary(args) -> int:
    from .train import pipeline
    print(pipeline.describe(args.model, args.data))
    return 0


def _predict(args) -> int:
    from .train import inputs as inputs_module
    from .train import pipeline
    model, encoder, classes, config = pipeline.load_model(args.model_file, args.model)
    inputs = list(args.inputs)
    if args.file:
        inputs += _lines_of(args.file)
    if inputs == ["-"] or (not inputs and not sys.stdin.isatty()):
        inputs = [line.strip() for line in sys.stdin if line.strip()]
    if not inputs:
        raise ValueError("predict: give image files, CSV files or sentences (or '-' to read "
                         "stdin)")
    if config["kind"] == "text":
        raw = numpy.asarray(inputs, dtype=object)
    elif all(inputs_module.is_table(name) for name in inputs):
        inputs, raw = inputs_module.read_table_rows(inputs, config)
    else:
        raw = inputs_module.read_images(inputs, config, encoder,
                                        note=lambda line: print(line, file=sys.stderr))
    for name, (label, probability) in zip(inputs, pipeline.predict(model, encoder, classes, raw)):
        print(f"{label}\t{probability:.3f}\t{name}")
    return 0


def _lines_of(path: str) -> list[str]:
    """The non-blank lines of a UTF-8 text file (other bytes: one line naming where)."""
    from .data.tables import read_text
    return [line.strip() for line in read_text(path).splitlines() if line.strip()]


if __name__ == "__main__":
    sys.exit(main())
