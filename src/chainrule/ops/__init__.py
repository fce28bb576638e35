"""The differentiable operations, grouped by family: each an `Op` subclass, its forward
beside its backward with the formula above them. The public forms that take PyTorch's
arguments (`cr.exp(x)`, `x + y`, `x.sum(1)`) are one layer up, in chainrule/composites/."""
