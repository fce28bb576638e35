"""Write docs/compatibility.md: chainrule against PyTorch, public name by public name.

    python scripts/compat_table.py            # rewrite docs/compatibility.md
    python scripts/compat_table.py --check    # exit 1 if the file is out of date

It imports PyTorch (the test oracle) and chainrule, walks the public names of the
namespaces real programs use, and puts each name in one of three classes:

- implemented: chainrule has the name at the same path (`torch.nn.functional.gelu` →
  `chainrule.nn.functional.gelu`, `torch.Tensor.sin_` → `chainrule.Tensor.sin_`);
- deliberately absent: the first rule of ABSENT whose pattern matches gives the reason
  (quantization, sparse layouts, complex numbers, JIT, ...);
- missing: everything else; the goal is an empty list in the numerical core.

Typing helpers and modules that a namespace merely imports are not counted.
"""
from __future__ import annotations

import argparse
import inspect
import pathlib
import re
import sys
import types

ROOT = pathlib.Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "compatibility.md"

# (namespace under torch / chainrule, title); "" is the top level, "Tensor" the class.
NAMESPACES = [
    ("", "torch.* (functions, classes, dtypes, constants)"),
    ("Tensor", "torch.Tensor (methods and attributes)"),
    ("nn", "torch.nn"),
    ("nn.functional", "torch.nn.functional"),
    ("nn.init", "torch.nn.init"),
    ("nn.utils", "torch.nn.utils"),
    ("optim", "torch.optim"),
    ("optim.lr_scheduler", "torch.optim.lr_scheduler"),
    ("utils.data", "torch.utils.data"),
    ("autograd", "torch.autograd"),
    ("autograd.functional", "torch.autograd.functional"),
    ("autograd.graph", "torch.autograd.graph"),
    ("func", "torch.func"),
]

# What chainrule leaves out on purpose, and why. First match wins; a pattern is matched
# against the bare name (`re.fullmatch`).
ABSENT = [
    ("quantization (chainrule computes in float16/32/64 only)",
     r"q_.*|qscheme|.*quantiz.*|dequantize|int_repr|q?u?int[1-7]|uint(16|32|64)|"
     r"q(u)?int.*|per_(tensor|channel)_.*|choose_qparams.*|fbgemm_.*|.*fake_quant.*|"
     r"fused_moving_avg.*|empty_quantized|bits.*|bit|float8_.*|float4_.*|(uint|int)[1-7]"),
    ("sparse layouts (only Embedding's row-sparse gradients exist)",
     r".*sparse.*|.*_csr|.*_csc|.*_bsr|.*_bsc|coalesce|is_coalesced|.*crow_indices.*|"
     r".*ccol_indices.*|.*col_indices.*|.*row_indices.*|indices(_copy)?|values(_copy)?|"
     r"dense_dim|to_dense|[sh]spmm|dsmm|hspmm|hsmm|smm|saddmm|sspaddmm|spmm|jagged|"
     r"to_padded_tensor|is_nested|nested_.*|segment_reduce|SparseAdam"),
    ("complex numbers (NumPy could, but no op here takes a complex gradient)",
     r".*complex.*|c(float|double|half)|chalf|conj.*|is_conj|resolve_conj|real|imag|angle|"
     r"polar|view_as_real.*|H|mH|adjoint|.*stft"),
    ("bfloat16 (NumPy has no bfloat16 dtype)", r"bfloat16|BFloat16.*"),
    ("JIT, compilation and graph export internals",
     r"jit|script.*|trace.*|fork|wait|.*_ir.*|parse_.*|import_ir.*|.*type_comment.*|"
     r"unify_type_list|sym_.*|Sym.*|cond|while_loop|vmap|func|export|FatalError|"
     r"JITException|region_activation_memory_budget|rearrange|"
     r"compiled_with_cxx11_abi|get_file_path|classproperty|merge_type_.*|"
     r"is_tensor_like|has_torch_function.*|handle_torch_function|boolean_dispatch|"
     r"BroadcastingList.*|assert_int_or_pair"),
    ("vendor kernels and their entry points (cuDNN, MIOpen, MKL-DNN, Vulkan, ...)",
     r"cudnn_.*|miopen_.*|mkldnn.*|to_mkldnn|is_mkldnn|.*vulkan.*|is_(xla|xpu|ipu|hpu|mtia|"
     r"maia|mps|meta)|xpu|ipu|mtia|.*_fp16_.*|conv_tbc|grouped_mm|scaled_.*mm"),
    ("memory layout and storage internals (a tensor owns one dense array)",
     r".*storage.*|.*Storage|Storage.*|layout|as_strided.*|empty_permuted|new_empty_strided|set_|"
     r"is_set_to|data_ptr|const_data_ptr|dim_order|record_stream|resize.*|"
     r"unsafe_.*|.*_format|module_load|as_subclass|is_shared|from_file|frombuffer|"
     r"nonzero_static|hash_tensor|output_nr|_version|channels_last.*|strided"),
    ("legacy API (use dtype= and tensors)",
     r"set_default_tensor_type|new|reinforce|volatile|Variable|variable|is_distributed"),
    ("autocast and mixed precision (chainrule computes in the dtype you choose)",
     r".*autocast.*|set_float32_matmul_precision|get_float32_matmul_precision"),
    ("profiler internals", r"Profiler.*|kineto_available|profiler_.*"),
    ("low-level ATen entry points (use the torch.nn.functional form)",
     r"native_.*|.*_backward.*|batch_norm_(elemt|stats|gather_stats.*|update_stats|"
     r"backward_.*)|.*_cell|rnn_(tanh|relu)|gru|lstm|quantized_.*|convolution|"
     r"constant_pad_nd|grid_sampler.*|affine_grid_generator|embedding_renorm_|"
     r"norm_except_dim|frobenius_norm|nuclear_norm|native_norm|feature_.*dropout.*|"
     r"alpha_dropout_|feature_dropout|slice_inverse|multi_head_attention_forward|"
     r"linear_cross_entropy|LinearCrossEntropy.*|ScalingType|SwizzleType|"
     r"GRID_SAMPLE_.*"),
    ("ATen forms with other argument orders or enum reductions (use torch.nn.functional)",
     r"batch_norm|instance_norm|embedding|embedding_bag|kl_div|.*_loss|"
     r"binary_cross_entropy_with_logits", ("",)),
    ("CUDA streams and events (CuPy keeps its own)",
     r"Stream|Event|get_device_module|.*_stream(_.*)?"),
    ("functorch's first-class dimensions (Tensor.index binds positions to Dim objects)",
     r"index", ("Tensor",)),
    ("gradient dtype overrides (a gradient always has its tensor's dtype)", r"grad_dtype",
     ("Tensor",)),
    ("named tensors", r"name|names|rename|refine_names|align_to|align_as"),
    ("torch-function and dispatch overrides", r"DisableTorchFunction.*|TorchDispatchMode"),
    ("data pipes (deprecated in PyTorch)",
     r".*DataPipe.*|.*datapipe.*|DataChunk|.*_validation.*|non_deterministic"),
    ("lazy and uninitialized modules (shapes are given up front here)",
     r"Lazy.*|Uninitialized.*"),
    ("multi-process and distributed internals",
     r"prepare_multiprocessing_environment|DataParallel|is_multithreading_enabled|"
     r"set_multithreading_enabled|SavedTensor|NestedIOFunction|DeviceType|"
     r"enforce_grad_layout_policy|is_view_replay_enabled|thread_safe_generator"),
    ("linear-algebra decompositions (chainrule.linalg has svd, inv, det, norms and solve only)",
     r"cholesky.*|eig|symeig|lobpcg|lstsq|lu|lu_.*|qr|geqrf|orgqr|ormqr|svd.*|pca_lowrank|"
     r"triangular_solve|matrix_exp|matrix_rank|pinverse|solve"),
]


def _public(obj, title: str) -> list[str]:
    """The names a namespace defines for its users (no typing helpers, no imports of
    other libraries' objects, no submodules)."""
    names = []
    for name in dir(obj):
        if name.startswith("_"):
            continue
        try:
            value = getattr(obj, name)
        except Exception:  # noqa: BLE001 - a lazy attribute that fails is not usable
            continue
        if isinstance(value, types.ModuleType):
            continue
        origin = getattr(value, "__module__", None) or ""
        if title != "Tensor" and callable(value) and origin and not origin.startswith("torch"):
            continue  # typing.Optional, collections.Counter, bisect_right ... imported
        if title not in ("", "Tensor") and (not callable(value) or value is _torch().Tensor):
            continue  # constants and notes of a submodule, its imported Tensor class
        if (name.isupper() and not inspect.isclass(value)) or origin == "typing" \
                or type(value).__module__ == "typing":
            continue  # build flags and typing constants (TYPE_CHECKING, AVG, Optional)
        names.append(name)
    return names


def _torch():
    import torch
    return torch


def _resolve(root, path: str):
    obj = root
    for part in filter(None, path.split(".")):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


# Classes that PyTorch's C++ core exports through pybind11 for TorchScript, the
# dispatcher and its own file readers; the few that programs use (Size, dtype, ...) count.
BINDING_REASON = "TorchScript, dispatcher and C++ binding classes"
USED_BINDINGS = ("Size", "dtype", "device", "Generator", "Tensor", "layout", "memory_format")


def classify(name: str, ours, theirs, path: str = "") -> tuple[str, str]:
    if ours is not None and hasattr(ours, name):
        return "implemented", ""
    value = getattr(theirs, name, None)
    if inspect.isclass(value) and type(value).__name__ == "pybind11_type" \
            and name not in USED_BINDINGS:
        return "absent", BINDING_REASON
    for reason, pattern, *only in ABSENT:
        if re.fullmatch(pattern, name) and (not only or path in only[0]):
            return "absent", reason
    return "missing", ""


def table() -> list[dict]:
    import torch

    import chainrule

    rows = []
    for path, title in NAMESPACES:
        theirs, ours = _resolve(torch, path), _resolve(chainrule, path)
        for name in sorted(_public(theirs, path)):
            status, reason = classify(name, ours, theirs, path)
            rows.append(dict(namespace=title, path=path, name=name, status=status,
                             reason=reason))
    return rows


# Where a name exists but behaves differently from PyTorch on purpose or for now.
DIFFERENCES = [
    "`x.dtype` is a NumPy dtype, so it prints `float32` where PyTorch prints "
    "`torch.float32` (it compares equal to `torch.float32` all the same).",
    "A device compares equal to its name as well as to another device "
    "(`x.device == \"cpu\"` is True; PyTorch compares a device only with a device).",
    "`cr.compile(model)` returns the model unchanged; `autocast` and `GradScaler` behave as "
    "PyTorch's disabled ones (full precision, no loss scaling).",
    "`set_num_threads` sets the threads of NumPy's BLAS (matrix products); element-wise "
    "work runs on one thread whatever the setting.",
    "An in-place method on a tensor inside the graph (`h.sin_()`) makes the tensor the new "
    "result, as PyTorch records it; ops that used the tensor before the change keep the "
    "values they saved, and version counters refuse a backward through a changed saved value.",
    "Second derivatives: `prod`, `cumprod` and the recurrent kernels are differentiable once "
    "(a clear error under `create_graph=True`).",
    "`F.ctc_loss`'s gradient is the true derivative with respect to `log_probs`; PyTorch's "
    "returns the derivative with respect to the logits before `log_softmax` (it adds "
    "`exp(log_probs)`), so the two agree on everything upstream of a `log_softmax`, as "
    "PyTorch documents the input.",
    "`optim.Muon` runs its Newton-Schulz iteration in the parameter's dtype; PyTorch rounds "
    "it to bfloat16, which NumPy lacks (same update up to that rounding).",
    "`torch.utils.checkpoint.checkpoint` keeps the values it would recompute: the same "
    "results and gradients, without the memory saving.",
    "`nn.CrossMapLRN2d` computes PyTorch's forward (whose window always holds channel 0) "
    "and its exact derivative; PyTorch's hand-written backward assumes the window without "
    "channel 0, so its gradient differs (and fails `torch.autograd.gradcheck`).",
    "`F.grid_sample(mode=\"nearest\")` leaves the grid without a gradient (`grid.grad` "
    "stays None); PyTorch gives it zeros.",
    "`torch.func.vmap` runs the function once per example and stacks the results (the same "
    "numbers as a batching rule, in a loop); the `torch.func` transforms nest through the "
    "autograd graph (there are no functorch levels), and `jacfwd` computes in reverse mode.",
]


def render(rows: list[dict]) -> str:
    import torch

    lines = ["# Compatibility with PyTorch, name by name", "",
             f"Generated by `scripts/compat_table.py` against PyTorch {torch.__version__}; "
             "do not edit by hand (`make compat-table` rewrites it, and a test fails when it "
             "is out of date).", "",
             "A name is *implemented* when chainrule has it at the same path, *absent* when "
             "it is left out on purpose (the reason is given), and *missing* otherwise.", "",
             "Behaviour that differs although the name exists:", "",
             *[f"- {d}" for d in DIFFERENCES], "",
             "| namespace | implemented | absent | missing | coverage of the rest |",
             "|---|---:|---:|---:|---:|"]
    for _, title in NAMESPACES:
        mine = [r for r in rows if r["namespace"] == title]
        count = {s: sum(r["status"] == s for r in mine) for s in ("implemented", "absent",
                                                                    "missing")}
        considered = count["implemented"] + count["missing"]
        share = f"{100 * count['implemented'] / considered:.0f}%" if considered else "-"
        lines.append(f"| `{title.split(' ')[0]}` | {count['implemented']} | {count['absent']} "
                     f"| {count['missing']} | {share} |")
    for _, title in NAMESPACES:
        mine = [r for r in rows if r["namespace"] == title]
        lines += ["", f"## {title}", ""]
        for status, heading in (("missing", "Missing"), ("implemented", "Implemented")):
            names = [r["name"] for r in mine if r["status"] == status]
            lines.append(f"**{heading}** ({len(names)}): " +
                         (", ".join(f"`{n}`" for n in names) if names else "none"))
            lines.append("")
        reasons = sorted({r["reason"] for r in mine if r["status"] == "absent"})
        if reasons:
            lines.append("**Deliberately absent:**")
            lines.append("")
            for reason in reasons:
                names = [r["name"] for r in mine if r["reason"] == reason]
                lines.append(f"- {reason}: " + ", ".join(f"`{n}`" for n in names))
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when docs/compatibility.md is out of date")
    args = parser.parse_args(argv)
    text = render(table())
    if args.check:
        current = OUTPUT.read_text() if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run "
                  "python scripts/compat_table.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
