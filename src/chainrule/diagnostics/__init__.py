"""Tools built on the core from outside it (one layer above ops): anomaly mode (an op hook
that stops at the first NaN or infinity and says why), gradcheck (backward against finite
differences), `functional` (jacobian, hessian, vjp, jvp, hvp, vhp from autograd.grad),
`graph` (the Node type, hooks on what forward saves) and the profiler (an op hook timing
every op: `profiler.profile`, `record_function`).

PyTorch keeps them under `torch.autograd`; `install(autograd)`, called once by the package
`__init__`, puts them at those paths (`cr.autograd.detect_anomaly`, `cr.autograd.gradcheck`,
`cr.autograd.functional`, `cr.autograd.profiler`, `MyFunction.verify`), as `ops` gives the
Tensor class its methods.
"""
import sys

from . import functional, graph, profiler
from .anomaly import AnomalyError, detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .gradcheck import GradcheckError, gradcheck, gradgradcheck, verify

PUBLIC = {"AnomalyError": AnomalyError, "detect_anomaly": detect_anomaly,
          "is_anomaly_enabled": is_anomaly_enabled, "set_detect_anomaly": set_detect_anomaly,
          "GradcheckError": GradcheckError, "gradcheck": gradcheck,
          "gradgradcheck": gradgradcheck}


def install(autograd) -> None:
    """Give the `autograd` namespace its diagnostics, and `Function` its `verify`."""
    for name, value in PUBLIC.items():
        setattr(autograd, name, value)
    autograd.Function.verify = classmethod(verify)
    for name, module in (("functional", functional), ("graph", graph), ("profiler", profiler)):
        setattr(autograd, name, module)  # importable too: from chainrule.autograd.graph import
        sys.modules[f"{autograd.__name__}.{name}"] = module
