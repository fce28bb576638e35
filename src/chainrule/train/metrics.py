"""Classification metrics from predicted and true class indices (NumPy arrays)."""
from __future__ import annotations

import numpy


def accuracy(predicted, target) -> float:
    predicted, target = numpy.asarray(predicted), numpy.asarray(target)
    return float((predicted == target).mean()) if target.size else 0.0


def confusion_matrix(predicted, target, num_classes: int) -> numpy.ndarray:
    """counts[t, p]: how many examples of true class t were predicted as p."""
    flat = numpy.asarray(target) * num_classes + numpy.asarray(predicted)
    return numpy.bincount(flat, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes)


def precision_recall_f1(confusion: numpy.ndarray) -> dict:
    """Per-class precision, recall and F1, and their unweighted (macro) means."""
    hits = numpy.diag(confusion).astype(float)
    predicted = confusion.sum(0)
    actual = confusion.sum(1)
    precision = numpy.divide(hits, predicted, out=numpy.zeros_like(hits), where=predicted > 0)
    recall = numpy.divide(hits, actual, out=numpy.zeros_like(hits), where=actual > 0)
    total = precision + recall
    f1 = numpy.divide(2 * precision * recall, total, out=numpy.zeros_like(hits),
                      where=total > 0)
    return {"precision": precision, "recall": recall, "f1": f1,
            "macro_precision": float(precision.mean()), "macro_recall": float(recall.mean()),
            "macro_f1": float(f1.mean())}


def report(predicted, target, num_classes: int) -> dict:
    """Accuracy, macro precision/recall/F1 and the confusion matrix in one dict."""
    confusion = confusion_matrix(predicted, target, num_classes)
    scores = precision_recall_f1(confusion)
    return {"accuracy": accuracy(predicted, target), "macro_precision": scores["macro_precision"],
            "macro_recall": scores["macro_recall"], "macro_f1": scores["macro_f1"],
            "confusion": confusion}


def confusion_table(confusion: numpy.ndarray, classes, width: int = 12) -> str:
    """The confusion matrix as text with the class names on both axes (rows: true class,
    columns: predicted); names longer than `width` are cut to it."""
    names = [str(c)[:width] for c in classes]
    cell = max(max(len(n) for n in names), len(str(int(confusion.max(initial=0)))))
    side = max(len(n) for n in names)
    lines = [" " * side + "  " + " ".join(n.rjust(cell) for n in names)]
    for name, row in zip(names, confusion):
        lines.append(name.rjust(side) + "  " + " ".join(str(int(v)).rjust(cell) for v in row))
    return "\n".join(lines)
