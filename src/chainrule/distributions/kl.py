"""`kl_divergence(p, q)`: KL(p ‖ q) = E_p[log p − log q], in closed form for two
distributions of the same kind."""
from __future__ import annotations

from ..composites.matrix import inverse
from ..tensor import Tensor
from .bernoulli import Bernoulli
from .categorical import Categorical
from .independent import Independent
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .uniform import Uniform


def kl_divergence(p, q) -> Tensor:
    if type(p) is not type(q) or type(p) not in _RULES:
        raise NotImplementedError(f"kl_divergence: no closed form for {type(p).__name__} "
                                  f"against {type(q).__name__} (chainrule has Normal, "
                                  "MultivariateNormal, Uniform, Categorical, Bernoulli and "
                                  "Independent pairs)")
    return _RULES[type(p)](p, q)


def _normal(p: Normal, q: Normal) -> Tensor:
    # KL = ½ (σp²/σq² + (μp − μq)²/σq² − 1 − log σp²/σq²)
    ratio = (p.scale / q.scale) ** 2
    gap = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (ratio + gap - 1 - ratio.log())


def _categorical(p: Categorical, q: Categorical) -> Tensor:
    # KL = Σ_k p_k (log p_k − log q_k)
    return (p.probs * (p.logits - q.logits)).sum(-1)


def _bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    # KL = p (log p − log q) + (1 − p)(log(1 − p) − log(1 − q)), in logits
    return (p.probs * (p.logits - q.logits) - (1 + p.logits.exp()).log()
            + (1 + q.logits.exp()).log())


def _independent(p: Independent, q: Independent) -> Tensor:
    # KL of independent parts: the sum of the parts' KL over the event dimensions
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError("kl_divergence: Independent distributions over different "
                                  "event dimensions")
    return p._sum_event(kl_divergence(p.base_dist, q.base_dist))


def _multivariate_normal(p: MultivariateNormal, q: MultivariateNormal) -> Tensor:
    # KL = ½ (tr(Σq⁻¹Σp) + (μq − μp)ᵀ Σq⁻¹ (μq − μp) − k) + log det Lq − log det Lp,
    # with Σq⁻¹ = Lq⁻ᵀ Lq⁻¹: both terms are squared norms of Lq⁻¹ (Lp, μq − μp)
    q_inverse = inverse(q._unbroadcasted_scale_tril.tril())
    trace = ((q_inverse @ p._unbroadcasted_scale_tril) ** 2).sum((-2, -1))
    gap = ((q_inverse @ (q.loc - p.loc).unsqueeze(-1)) ** 2).sum((-2, -1))
    return 0.5 * (trace + gap - p.event_shape[0]) + q._half_log_det() - p._half_log_det()


def _uniform(p: Uniform, q: Uniform) -> Tensor:
    # KL = log((q.high − q.low) / (p.high − p.low)) where p's range lies in q's, else inf
    inside = (q.low <= p.low) & (p.high <= q.high)
    ratio = (q.high - q.low) / (p.high - p.low)
    return ratio.log() - inside.to(ratio.dtype).log()


_RULES = {Normal: _normal, Categorical: _categorical, Bernoulli: _bernoulli,
          Independent: _independent, MultivariateNormal: _multivariate_normal,
          Uniform: _uniform}
