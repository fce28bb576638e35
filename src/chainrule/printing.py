"""How tensors print: `cr.set_printoptions`, PyTorch's options over NumPy's printer."""
from __future__ import annotations

# NumPy's array2string keywords, chainrule's defaults (NumPy's own).
options: dict = {}

_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=2 ** 63 - 1, edgeitems=3, linewidth=80)}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None) -> None:
    """Digits, summarising and line width of printed tensors, as torch.set_printoptions
    (`sci_mode=True` prints in scientific notation, False never does)."""
    chosen = dict(_PROFILES[profile]) if profile else {}
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("max_line_width", linewidth)):
        if value is not None:
            chosen[name] = value
    if "linewidth" in chosen:
        chosen["max_line_width"] = chosen.pop("linewidth")
    if sci_mode is not None:
        digits = chosen.get("precision", options.get("precision", 4))
        chosen["formatter"] = {"float_kind": (lambda v: f"{v:.{digits}e}")} if sci_mode else None
        chosen["suppress_small"] = not sci_mode
    options.update(chosen)
