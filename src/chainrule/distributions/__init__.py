"""`chainrule.distributions`: the probability distributions PyTorch programs sample from and
score (`torch.distributions`): a policy's `Categorical`, a VAE's `Normal` (over a vector:
`Independent(Normal(μ, σ), 1)`, or `MultivariateNormal` with a full covariance),
`Bernoulli`, `Uniform`, `Exponential`, `Laplace`, a base pushed through invertible
transforms (`TransformedDistribution`), and `kl_divergence` between two of a kind. Built
from chainrule's differentiable functions, so `log_prob`, `entropy`, `rsample` and
`kl_divergence` carry gradients to the parameters."""
from . import bernoulli, categorical, kl, normal, transforms  # noqa: F401
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .exponential import Exponential
from .independent import Independent
from .kl import kl_divergence
from .laplace import Laplace
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, ExpTransform, SigmoidTransform, TanhTransform, Transform
from .uniform import Uniform

__all__ = ["AffineTransform", "Bernoulli", "Categorical", "Distribution", "ExpTransform",
           "Exponential", "Independent", "Laplace", "MultivariateNormal", "Normal",
           "SigmoidTransform", "TanhTransform", "Transform", "TransformedDistribution",
           "Uniform", "kl_divergence"]
