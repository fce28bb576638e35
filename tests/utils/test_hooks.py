"""`torch.utils.hooks` (chainrule/utils/hooks.py): the hook handle at PyTorch's path."""
import chainrule as cr
from chainrule.utils.hooks import RemovableHandle


def test_a_registered_hook_returns_the_handle_at_pytorchs_path():
    x = cr.ones(2, requires_grad=True)
    seen = []
    handle = x.register_hook(lambda grad: seen.append(grad))
    assert isinstance(handle, RemovableHandle)
    handle.remove()
    (x * 2).sum().backward()
    assert seen == []
