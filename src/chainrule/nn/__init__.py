"""`chainrule.nn`: modules, layers, losses, initialisation."""
from . import functional, init, modules, utils  # noqa: F401
from .containers import Container, ModuleDict, ModuleList, Sequential  # noqa: F401
from .factory import factory_kwargs  # noqa: F401
from .layers import *  # noqa: F401,F403
from .module import Module, StateDictError  # noqa: F401
from .parameter import Buffer, Parameter  # noqa: F401
from .parameter_containers import ParameterDict, ParameterList  # noqa: F401

# isort: split
# parallel builds on the layers above, so it is imported after them
from . import parallel  # noqa: F401,E402  (DistributedDataParallel)
from .parallel import DataParallel, SyncBatchNorm  # noqa: F401,E402
