"""nn.utils.rnn.pad_sequence against PyTorch: values, gradients, finite differences."""
from __future__ import annotations

from ops.harness import case, op_table_tests  # tests/ops


def pad_sequence(m):
    return m.nn.utils.rnn.pad_sequence


CASES = [
    case("pad-sequence", lambda m, a, b, c: pad_sequence(m)([a, b, c]), (3, 2), (5, 2), (1, 2)),
    case("pad-sequence-batch-first-value", lambda m, a, b: pad_sequence(m)(
        [a, b], batch_first=True, padding_value=-1.5), (2,), (4,)),
    case("pad-sequence-left", lambda m, a, b: pad_sequence(m)(
        [a, b], batch_first=True, padding_side="left"), (2, 3, 2), (3, 3, 2)),
]

(test_forward_matches_torch, test_gradient_matches_torch, test_gradcheck,
 test_second_derivative_matches_torch) = op_table_tests(CASES)


def test_module_path():
    import chainrule.nn.utils.rnn as rnn
    from chainrule.nn.utils.rnn import pad_sequence as imported
    assert imported is rnn.pad_sequence
