"""Tools that check the engine's work from outside it, built on the core (one layer above
ops): anomaly mode (an op hook that stops at the first NaN or infinity and says why) and
gradcheck (backward against finite differences).

PyTorch keeps them under `torch.autograd`; `install(autograd)`, called once by the package
`__init__`, puts them at those paths (`cr.autograd.detect_anomaly`, `cr.autograd.gradcheck`,
`MyFunction.verify`), as `ops` gives the Tensor class its methods.
"""
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
