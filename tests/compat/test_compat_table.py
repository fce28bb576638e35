"""docs/compatibility.md is generated from the code (scripts/compat_table.py), and the
numerical core the issue names is complete."""
import importlib.util
import pathlib

import pytest

import chainrule as cr

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("compat_table",
                                                  ROOT / "scripts" / "compat_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


POINTWISE = ("sin cos tan asin acos atan atan2 sinh cosh tanh asinh acosh atanh exp exp2 expm1 "
             "log log2 log10 log1p sqrt rsqrt reciprocal square sign sgn floor ceil round trunc "
             "frac erf erfc erfinv lgamma digamma sigmoid logit hypot fmod remainder lerp "
             "copysign logaddexp xlogy abs neg pow clamp clip maximum minimum fmax fmin "
             "nan_to_num addcmul addcdiv deg2rad rad2deg sinc float_power").split()
REDUCTIONS = ("sum mean prod cumsum cumprod logsumexp logcumsumexp norm amax amin aminmax max "
              "min median mode topk sort argsort kthvalue all any count_nonzero var std "
              "var_mean std_mean argmax argmin nansum nanmean cummax cummin dist").split()
COMPARISONS = ("eq ne lt le gt ge isclose allclose equal isnan isinf isfinite isposinf "
               "isneginf logical_and logical_or logical_not logical_xor").split()
SHAPES = ("split chunk narrow flip roll tril triu repeat_interleave tile movedim unbind "
          "unflatten diag diagonal einsum bmm mm mv outer dot cross cat stack reshape "
          "permute transpose squeeze unsqueeze flatten hstack vstack meshgrid kron "
          "tensordot trace rot90 broadcast_to").split()
INDEXING = ("index_select masked_fill masked_select scatter scatter_add index_add "
            "take_along_dim nonzero where gather take searchsorted unique").split()
CREATION = ("zeros ones empty full rand randn randint zeros_like ones_like empty_like "
            "full_like rand_like randn_like randint_like arange linspace logspace eye "
            "tril_indices triu_indices tensor as_tensor from_numpy multinomial bernoulli "
            "normal poisson randperm manual_seed Generator").split()
DTYPES = ("float double half long int short bool uint8 int8 int16 int32 int64 float16 "
          "float32 float64").split()
DEVICES = ("device set_default_device get_default_device inference_mode no_grad "
           "is_tensor numel set_printoptions get_default_dtype set_default_dtype").split()
METHODS = ("sin_ add_ sub_ mul_ div_ clamp_ masked_fill_ eq contiguous type nelement numel "
           "element_size t mm new_zeros new_ones new_full new_empty new_tensor split narrow "
           "tril roll repeat expand_as view_as item tolist numpy data cpu to "
           "__index__ __int__ __float__ __format__ uniform_ normal_").split()


@pytest.mark.parametrize("names", [POINTWISE, REDUCTIONS, COMPARISONS, SHAPES, INDEXING,
                                   CREATION, DTYPES, DEVICES],
                         ids=["pointwise", "reductions", "comparisons", "shapes", "indexing",
                              "creation", "dtypes", "devices"])
def test_no_core_function_is_missing(names):
    assert [n for n in names if not hasattr(cr, n)] == []


def test_no_core_tensor_method_is_missing():
    assert [n for n in METHODS if not hasattr(cr.Tensor, n)] == []
    methods = [n for n in POINTWISE + REDUCTIONS + COMPARISONS if n not in
               ("clip", "float_power", "allclose", "equal")]
    assert [n for n in methods if not hasattr(cr.Tensor, n)] == []


def test_the_table_is_generated_and_up_to_date():
    assert _script().main(["--check"]) == 0, \
        "docs/compatibility.md is stale: run python scripts/compat_table.py (make compat-table)"


def test_classification():
    script = _script()
    import torch
    assert script.classify("sin", cr, torch) == ("implemented", "")
    assert script.classify("quantize_per_tensor", cr, torch)[0] == "absent"
    assert script.classify("no_such_name_anywhere", cr, torch) == ("missing", "")
