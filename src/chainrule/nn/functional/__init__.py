"""`chainrule.nn.functional` (conventionally `F`): every layer, activation and loss as a function."""
from .activation import *  # noqa: F401,F403
from .channel_dropout import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .conv_transpose import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .embedding import *  # noqa: F401,F403
from .group_normalization import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .margin_loss import *  # noqa: F401,F403
from .misc import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .piecewise import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .regression_loss import *  # noqa: F401,F403
from .smooth import *  # noqa: F401,F403
