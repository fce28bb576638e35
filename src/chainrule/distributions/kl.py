"""`kl_divergence(p, q)`: KL(p ‖ q) = E_p[log p − log q], in closed form for two
distributions of the same kind."""
from __future__ import annotations

from ..tensor import Tensor
from .bernoulli import Bernoulli
from .categorical import Categorical
from .independent import Independent
from .normal import Normal


def kl_divergence(p, q) -> Tensor:
    if type(p) is not type(q) or type(p) not in _RULES:
        raise NotImplementedError(f"kl_divergence: no closed form for {type(p).__name__} "
                                  f"against {type(q).__name__} (chainrule has Normal, "
                                  "Categorical, Bernoulli and Independent pairs)")
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


_RULES = {Normal: _normal, Categorical: _categorical, Bernoulli: _bernoulli,
          Independent: _independent}
