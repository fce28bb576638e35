"""`import torch` in a process that Python's multiprocessing spawned from a program run by
`chainrule run`: the parent put this folder first on the path it hands its children
(compat/torch_alias.py), so that `torch` is chainrule there as it is in the parent."""
from chainrule.compat.torch_alias import alias_torch_for_good

alias_torch_for_good()
