"""torch.nn.modules.utils (chainrule/nn/modules/utils.py) against PyTorch's."""
import torch.nn.modules.utils as theirs

import chainrule.nn.modules.utils as ours


def test_the_helpers_answer_as_pytorchs():
    for name in ("_single", "_pair", "_triple", "_quadruple"):
        for value in (3, (1, 2), [4, 5, 6]):
            assert getattr(ours, name)(value) == getattr(theirs, name)(value), (name, value)
    assert ours._ntuple(5)(0) == theirs._ntuple(5)(0)
    assert ours._reverse_repeat_tuple((1, 2, 3), 2) == theirs._reverse_repeat_tuple((1, 2, 3), 2)
    assert ours._list_with_default([None, 4], (1, 2, 7, 9)) == \
        theirs._list_with_default([None, 4], (1, 2, 7, 9))
