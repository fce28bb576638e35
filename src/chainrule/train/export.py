"""`chainrule export MODEL --onnx out.onnx`: a trained model file as an ONNX graph.

The model is rebuilt from its file (as `predict` does) and traced on one encoded example
of what it reads (a blank image or signal, or the sentence "a"); the batch axis is left
dynamic. The graph takes the encoded numbers, not raw images or text: its input is what
the model file's encoder produces (pixels scaled and standardised, token ids padded to
the encoder's length, or a bag-of-words row), and its output the logits.
When onnxruntime is installed the file is run once and compared with chainrule.
"""
from __future__ import annotations

import numpy

from ..autograd.grad_mode import no_grad
from ..creation import as_tensor
from ..io import onnx
from ..tensor import Tensor
from .model_file import load_model
from .pipeline import sample_input

INPUT_NAMES = {"image": "image", "signal": "signal", "text": "tokens"}


def add_parser(commands) -> None:
    export = commands.add_parser("export", help="write a trained model file as ONNX")
    export.add_argument("model_file", help="a model file (model.safetensors or "
                        "best.safetensors in a run folder)")
    export.add_argument("--onnx", required=True, metavar="OUT.onnx",
                        help="the ONNX file to write")
    export.add_argument("--opset", type=int, default=None,
                        help="ONNX opset version (default 18; 17 and up)")
    export.add_argument("--model", help="the FILE.py a model from user code was built with")
    export.set_defaults(func=run)


def run(args) -> int:
    model, encoder, classes, config = load_model(args.model_file, args.model)
    example = as_tensor(sample_input(config, encoder))
    input_name = INPUT_NAMES.get(config["kind"], "input")
    onnx.export(model, example, args.onnx, input_names=[input_name],
                output_names=["logits"], opset_version=args.opset,
                dynamic_axes={input_name: {0: "batch"}, "logits": {0: "batch"}})
    print(f"wrote {args.onnx}: input {input_name!r} {tuple(example.shape)} "
          f"{example.dtype} (batch axis dynamic), output 'logits' for {len(classes)} "
          "classes")
    difference = _check_with_onnxruntime(args.onnx, model, example, input_name)
    if difference is not None:
        print(f"onnxruntime runs it: max |onnxruntime - chainrule| = {difference:.2g}")
    return 0


def _check_with_onnxruntime(path: str, model, example: Tensor, input_name: str):
    try:
        import onnxruntime  # noqa: PLC0415 - optional, only to check the file
    except ImportError:
        return None
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    (got,) = session.run(["logits"], {input_name: example.numpy()})
    with no_grad():
        want = model(example).numpy()
    return float(numpy.abs(got - want).max())
