"""`chainrule.distributions`: the probability distributions PyTorch programs sample from and
score (`torch.distributions`): a policy's `Categorical`, a VAE's `Normal`, `Bernoulli`, and
`Uniform`, and `kl_divergence` between two of a kind. Built from chainrule's differentiable functions, so
`log_prob`, `entropy`, `rsample` and `kl_divergence` carry gradients to the parameters."""
from . import bernoulli, categorical, kl, normal, uniform  # noqa: F401
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .kl import kl_divergence
from .normal import Normal
from .uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Normal", "Uniform", "kl_divergence"]
