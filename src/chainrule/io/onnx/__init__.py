"""`cr.onnx.export(model, args, f, input_names=, output_names=, dynamic_axes=,
opset_version=)`: PyTorch's names. The onnx package (`pip install 'chainrule[onnx]'`) is
imported when `export` is first called, so `import chainrule` does not need it."""
from .errors import ExportError

__all__ = ["export", "ExportError"]


def export(model, args, f, **options):
    try:
        from .exporter import export as write  # noqa: PLC0415 - onnx is optional
    except ImportError as err:
        raise ImportError(f"cr.onnx.export needs the onnx package ({err}): "
                          "pip install 'chainrule[onnx]'") from err
    return write(model, args, f, **options)


export.__doc__ = """Write `model` as ONNX to `f`; see chainrule.io.onnx.exporter.export."""
