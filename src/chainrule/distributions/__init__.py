"""`chainrule.distributions`: the probability distributions PyTorch programs sample from and
score (`torch.distributions`): a policy's `Categorical`, a VAE's `Normal` (a vector's:
`Independent(Normal(μ, σ), 1)`), `Bernoulli`, `Uniform`, `Exponential`, `Laplace`, and
`kl_divergence` between two of a kind. Built from chainrule's differentiable functions, so
`log_prob`, `entropy`, `rsample` and `kl_divergence` carry gradients to the parameters."""
from . import bernoulli, categorical, kl, normal  # noqa: F401
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .exponential import Exponential
from .independent import Independent
from .kl import kl_divergence
from .laplace import Laplace
from .normal import Normal
from .uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Exponential", "Independent",
           "Laplace", "Normal", "Uniform", "kl_divergence"]
