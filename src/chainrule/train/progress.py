"""What a run prints while it trains, for a person at a terminal or for a log file.

In a terminal, each epoch gets a tqdm bar that redraws at tqdm's own rate (the running loss
is attached with `refresh=False`, so a fast loop does not redraw on every batch); the
finished epoch leaves one line. Piped into a file there is no bar at all: one line per epoch,
as Keras' `verbose=2`. Terminals whose encoding cannot show σ, Δ or → get ASCII stand-ins
instead of a UnicodeEncodeError.
"""
from __future__ import annotations

import codecs
import sys

QUIET, NORMAL, VERBOSE = 0, 1, 2

# Characters chainrule prints, and what an ASCII-only terminal shows instead.
ASCII_STAND_INS = {
    "σ": "sigma", "Δ": "D", "∂": "d", "→": "->", "←": "<-", "‖": "|", "≈": "~", "×": "x",
    "·": "*", "²": "^2", "³": "^3", "⁻": "^-", "¹": "1", "θ": "theta", "η": "eta", "∑": "sum",
    "√": "sqrt", "≤": "<=", "≥": ">=", "≠": "!=", "−": "-", "—": "--", "–": "-", "…": "...",
    "’": "'", "‘": "'", "“": '"', "”": '"', "█": "#", "▏": "|", "±": "+/-", "∞": "inf",
    "λ": "lambda", "α": "alpha", "β": "beta", "μ": "mu", "ε": "eps", "⊙": "*", "ŷ": "y^",
    "Σ": "Sum", "✓": "ok", "✗": "x", "⁰": "^0", "₁": "1", "₂": "2",
}
ERROR_HANDLER = "chainrule-ascii"


def _stand_in(err: UnicodeEncodeError):
    text = "".join(ASCII_STAND_INS.get(c, "?") for c in err.object[err.start:err.end])
    return text, err.end


codecs.register_error(ERROR_HANDLER, _stand_in)


def can_encode(stream, text: str = "σΔ→‖") -> bool:
    """Whether `stream` can print `text` as it is (a UTF-8 terminal or file can)."""
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def ascii_fallback(*streams) -> None:
    """Make each stream print ASCII stand-ins for characters its encoding lacks."""
    for stream in streams:
        if not can_encode(stream) and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors=ERROR_HANDLER)


def is_terminal(stream) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def progress_bar(loader, description: str, enabled: bool, stream=None):
    """`loader` wrapped in a tqdm bar when `enabled` and `stream` (stderr) is a terminal;
    otherwise `loader` itself."""
    stream = stream if stream is not None else sys.stderr
    if not enabled or not is_terminal(stream):
        return loader
    from tqdm import tqdm
    return tqdm(loader, desc=description, leave=False, unit="batch", dynamic_ncols=True,
                file=stream, ascii=not can_encode(stream, "█▏"))


def show_running(bar, loss: float, accuracy: float) -> None:
    """The running loss and accuracy on the bar, drawn at the bar's next refresh."""
    if hasattr(bar, "set_postfix"):
        bar.set_postfix(loss=f"{loss:.4f}", acc=f"{accuracy:.3f}", refresh=False)
