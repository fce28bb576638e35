"""Pooling over 2-D windows: max, average, and adaptive average.

Note [pooling by kernel offsets]. A pooling window has kh·kw offsets (i, j); for each
offset, the elements that offset picks out of every window form one strided slice of the
(padded) input, x[:, :, i·dh :: sh, j·dw :: sw]. So a pool is a short loop over the kernel
offsets, each step one vectorised operation on a whole slice:

    max:      y = max_(i,j) slice_ij(x)        average:   y = Σ_(i,j) slice_ij(x) / divisor

and its backward sends the gradient back through the same slices. The loop has kh·kw
steps whatever the image size; there is no loop over pixels. For the common
non-overlapping pool (kernel = stride, sizes divisible) this is also the fastest form in
NumPy: reshaping to (N, C, H/k, k, W/k, k) and reducing the two k axes was ~30× slower
when measured, because NumPy reduces such short strided axes one tiny loop at a time.

Note [stacked windows]. NumPy computes on strided operands several times slower than on
contiguous ones, and a strided copy costs less. Where the windows do not overlap, a max
pool therefore copies its slices into one contiguous stack (kh·kw, N, C, oh, ow), no
larger than the input, takes the max over it and keeps it for the backward pass, where the
winners are found on it too: on W3 that made the pools' forward ~10% slower and their
backward ~40% faster. There the winners are found as positions (`winner_index`: each
window's first maximum as a flat index into the frame), and the gradient is put there in
one indexed assignment (`scatter_at`) rather than through kh·kw strided slices: W3's
first pool's backward 948 → 740 µs, one thread. Overlapping windows would need a stack
larger than the input, and for them alone (no reuse) the strided slices were faster: they
stay on the slices.

The adjoint pair `WindowScatter` / `WindowGather` (spread each output's gradient over its
window with given weights / gather a weighted sum over each window) carries all the
backward passes, so second derivatives work: the average pool is linear, and the max
pool's gradient is linear in the incoming gradient once the winners are fixed.
"""
from __future__ import annotations

from ..autograd.op import Op
from ..backend import xp
from ..kernels.windows import (  # noqa: F401 - nn.functional uses Windows, pool_out_size
    Windows,
    first_maxima,
    gather_at,
    pool_out_size,
    scatter,
    scatter_at,
    winner_index,
)


class MaxPool2d(Op):
    # y = max over each window;  dL/dx = dL/dy at the element that won (the first largest
    # in scan order, as PyTorch), 0 elsewhere
    torch_name = "MaxPool2DWithIndicesBackward0"

    def forward(ctx, x, windows=None):
        frame = windows.pad(x, -xp(x).inf)
        ctx.windows = windows
        if windows.overlap:
            slices = windows.slices(frame)
            y = slices[0].copy()
            for view in slices[1:]:
                xp(x).maximum(y, view, out=y)
            ctx.save_for_backward(frame, y)
        else:  # a contiguous stack, kept for the backward pass (Note [stacked windows])
            stack, y = windows.stack_max(frame)
            ctx.save_for_backward(stack, y)
        return y

    def backward(ctx, grad):
        kept, y = ctx.saved_arrays  # the winners are constants, even in a graph
        if not ctx.windows.overlap:  # each input in one window: the winners by position
            index = winner_index(kept, y, ctx.windows)
            return (WindowScatter.call(grad, windows=ctx.windows, index=index),)
        masks = first_maxima(ctx.windows.slices(kept), y)
        return (WindowScatter.call(grad, windows=ctx.windows, weights=masks),)


def winners(frame, y, windows):
    """The winner masks (see `first_maxima`) of the windows of a padded frame."""
    return first_maxima(windows.slices(frame), y)


class WindowScatter(Op):
    # dx = Σ_(i,j) slice_ij⁻¹(g · w_ij): each output's value spread over its window with
    # weights w_ij (a max pool's winner masks) or one common scale (an average's 1/divisor);
    # or put at one position of its window each (`index`, a max pool's winners).
    # Linear in g; its adjoint is WindowGather with the same weights or positions.
    def forward(ctx, grad, windows=None, weights=None, scale=None, index=None):
        ctx.windows, ctx.weights, ctx.scale, ctx.index = windows, weights, scale, index
        if index is not None:
            return windows.crop(scatter_at(grad, windows, index))
        if scale is not None:
            grad = grad * scale
        return windows.crop(scatter(grad, windows, weights))

    def backward(ctx, h):
        return (WindowGather.call(h, windows=ctx.windows, weights=ctx.weights,
                                  scale=ctx.scale, index=ctx.index),)


class WindowGather(Op):
    # y = Σ_(i,j) w_ij · slice_ij(x) (times a common scale): a weighted sum over each
    # window; or x at one position of each window (`index`). Linear in x; its adjoint is
    # WindowScatter with the same weights or positions.
    def forward(ctx, x, windows=None, weights=None, scale=None, index=None):
        ctx.windows, ctx.weights, ctx.scale, ctx.index = windows, weights, scale, index
        if index is not None:
            return gather_at(x, windows, index)
        frame = windows.pad(x, 0)
        y = None
        for p, (i, j) in enumerate(windows.offsets()):
            part = frame[windows.slice(i, j)]
            if weights is not None:
                part = part * weights[p]
            if y is None:
                y = part.copy() if weights is None else part
            else:
                xp(x).add(y, part, out=y)
        if scale is not None:
            y *= scale
        return y

    def backward(ctx, grad):
        return (WindowScatter.call(grad, windows=ctx.windows, weights=ctx.weights,
                                   scale=ctx.scale, index=ctx.index),)


def avg_divisor(windows, count_include_pad: bool, like):
    """1 / (number of elements averaged) for each output, PyTorch's rule: windows are
    clipped to the padded input; padding counts only with count_include_pad.
    A Python float when every window has the same count, else an (oh, ow) array on
    `like`'s device, in its dtype."""
    counts = []
    for n, k, s, p, o in zip(windows.in_size, windows.kernel, windows.stride,
                             windows.padding, windows.out_size):
        axis = []
        for r in range(o):
            start = r * s - p
            end = min(start + k, n + p)
            if not count_include_pad:
                start, end = max(start, 0), min(end, n)
            axis.append(end - start)
        counts.append(axis)
    rows, cols = counts
    if len(set(rows)) == 1 and len(set(cols)) == 1:
        return 1.0 / (rows[0] * cols[0])
    grid = xp(like).asarray(rows, dtype=like.dtype).reshape(-1, 1) * \
        xp(like).asarray(cols, dtype=like.dtype).reshape(1, -1)
    return 1 / grid


def adaptive_ranges(size: int, out: int) -> list:
    """PyTorch's adaptive windows: output i averages [⌊i·size/out⌋, ⌈(i+1)·size/out⌉)."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def averaging_matrix(size: int, out: int, like):
    """A (out, size) matrix whose row i averages adaptive window i (like `like`)."""
    matrix = xp(like).zeros((out, size), dtype=like.dtype)
    for i, (start, end) in enumerate(adaptive_ranges(size, out)):
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


class Separable2d(Op):
    # y = A · x · Bᵀ over the last two axes (A averages rows, B columns);
    # dL/dx = Aᵀ · g · B: the same op with the transposed matrices
    def forward(ctx, x, rows=None, cols=None):
        ctx.rows, ctx.cols = rows, cols
        return xp(x).matmul(xp(x).matmul(rows, x), cols.T)

    def backward(ctx, grad):
        return (Separable2d.call(grad, rows=ctx.rows.T, cols=ctx.cols.T),)
