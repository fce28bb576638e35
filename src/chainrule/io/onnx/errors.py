"""The one error of ONNX export (importable without the onnx package)."""


class ExportError(ValueError):
    """The model cannot be written as ONNX: the message names the op or layer."""
