"""chainrule: backpropagation written out in plain, readable code over NumPy.

    import chainrule as cr
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad  # tensor([2., 4.])
"""
from .tensor import Tensor  # noqa: I001  (first: autograd and composites attach methods to it)
from . import autograd, composites, diagnostics, ops
autograd.install(Tensor)
composites.install(Tensor)  # x + y, x.sum(), x.to(), x[0], x.sin_(), x.split(), ...
diagnostics.install(autograd)  # cr.autograd.detect_anomaly, cr.autograd.gradcheck, ...
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .backend import (bool_ as bool, default_dtype as get_default_dtype, float16, float32,
                      float64, int32, int64, set_default_dtype, uint8)
from .random import get_rng_state, set_rng_state
from .creation import (arange, empty, eye, from_numpy, full, full_like, linspace, ones,
                       ones_like, rand, randint, randn, randperm, tensor, zeros, zeros_like)
from . import data, distributions, explain, nn, optim, train, utils  # noqa: E402
from . import func  # noqa: E402  (torch.func: grad, vmap, functional_call, ...)
from .func import vmap  # noqa: E402
from .serialize import LoadError, SaveError, load, save  # noqa: E402
from . import io  # noqa: E402  (PyTorch checkpoints, ONNX, DLPack)
from . import serialization  # noqa: E402,F401  (torch.serialization)
from . import multiprocessing  # noqa: E402,F401  (torch.multiprocessing, tensors shared)
from .io import from_dlpack, onnx, to_dlpack  # noqa: E402
from .composites.functions import (abs, add, argmax, argmin, cat, clamp, clone, concatenate,
                                   div, exp, expand, flatten, gather, log, log_softmax,
                                   matmul, max, maximum, mean, min, minimum, mul, neg,
                                   permute, pow, relu, reshape, sigmoid, softmax, sqrt,
                                   squeeze, stack, std, sub, sum, t, tanh, transpose,
                                   unsqueeze, var, view, where)

from .device import device  # noqa: E402
from .backend import default_device as get_default_device, set_default_device  # noqa: E402
from .random import Generator, initial_seed, manual_seed, seed  # noqa: E402
from .creation import (as_tensor, asarray, bernoulli, empty_like, logspace,  # noqa: E402
                       multinomial, normal, poisson, rand_like, randint_like, randn_like,
                       tril_indices, triu_indices)
from . import (accelerator, backends, cuda, functional, linalg, profiler,  # noqa: E402
               special, testing)
from .autograd import inference_mode, is_inference_mode_enabled  # noqa: E402
from .dtypes import (can_cast, double, finfo, float, half, iinfo, int, int8,  # noqa: E402
                     int16, is_complex, is_floating_point, long, promote_types, result_type,
                     short)
from .predicates import is_nonzero, is_storage, is_tensor, numel  # noqa: E402
from .printing import set_printoptions  # noqa: E402

# PyTorch's pointwise, comparison, shape, indexing and reduction functions (cr.sin, cr.eq,
# cr.split, ...), composed from the ops: chainrule/composites/.
globals().update(composites.TOP_LEVEL)
from . import amp, jit  # noqa: E402
from .amp import GradScaler, autocast  # noqa: E402
from .runtime import (AcceleratorError, OutOfMemoryError,  # noqa: E402
                      are_deterministic_algorithms_enabled, compile,
                      get_float32_matmul_precision, set_float32_matmul_precision,
                      get_deterministic_debug_mode, get_num_interop_threads,
                      has_lapack, has_mkl, has_openmp, has_spectral,
                      init_num_threads, is_deterministic_algorithms_warn_only_enabled,
                      is_warn_always_enabled, set_deterministic_debug_mode,
                      set_flush_denormal, set_num_interop_threads,
                      set_warn_always, typename, use_deterministic_algorithms)
from .kernels.threads import get_num_threads, set_num_threads  # noqa: E402
from .dtypes import dtype  # noqa: E402
from .shapes import (Size, channels_last, channels_last_3d, contiguous_format,  # noqa: E402
                     memory_format, preserve_format)
from math import e, inf, nan, pi  # noqa: E402
newaxis = None
from .random import default_generator  # noqa: E402
from .creation import CUDA_LEGACY_TYPES, LEGACY_TYPES  # noqa: E402
globals().update(LEGACY_TYPES)  # FloatTensor, LongTensor, ...
for _name, _legacy_type in CUDA_LEGACY_TYPES.items():  # cuda.FloatTensor, ...
    setattr(cuda, _name, _legacy_type)
from .creation import (bartlett_window, binomial, blackman_window,  # noqa: E402
                       empty_strided, hamming_window, hann_window, kaiser_window, range,
                       scalar_tensor, set_default_tensor_type)
from .composites.out_forms import out_forms  # noqa: E402
globals().update(out_forms(globals()))  # cr.matmul(a, b, out=c), cr.rand(2, 2, out=c)
# torch.conv2d, torch.dropout, ...: the nn.functional forms whose arguments are the same.
for _name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "dropout", "alpha_dropout", "max_pool1d", "max_pool2d",
              "max_pool3d", "max_pool1d_with_indices", "avg_pool1d", "adaptive_avg_pool1d",
              "adaptive_max_pool1d", "celu", "celu_", "selu", "selu_", "rrelu", "rrelu_",
              "threshold", "threshold_", "hardshrink", "prelu", "pixel_shuffle",
              "pixel_unshuffle", "channel_shuffle", "bilinear", "cosine_similarity",
              "pairwise_distance", "pdist", "group_norm", "layer_norm", "rms_norm"):
    if hasattr(nn.functional, _name):
        globals()[_name] = getattr(nn.functional, _name)
for _name in ("celu", "selu", "rrelu", "threshold", "dropout"):  # torch.selu_(x), ...
    if hasattr(nn.functional, _name) and _name + "_" not in globals():
        globals()[_name + "_"] = composites.inplace(getattr(nn.functional, _name), _name + "_")
for _name in ("hardshrink", "prelu"):  # Tensor methods that PyTorch has from nn.functional
    if hasattr(nn.functional, _name):
        setattr(Tensor, _name, getattr(nn.functional, _name))
is_anomaly_enabled = is_anomaly_check_nan_enabled = diagnostics.is_anomaly_enabled


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    diagnostics.set_detect_anomaly(enabled)

from . import version  # noqa: E402  (torch.version)
from .version import __version__  # noqa: E402
