"""im2col convolution on arrays: the unfolding, the three matrix products of a
convolution and its backward, and the reused scratch memory they run in (for
chainrule.ops.conv, which holds the math).

Note [im2col layout]. `cols` is laid out (C·kh·kw, N·oh·ow): one row per weight, one
column per output pixel of the whole batch, so every image owns a (C·kh·kw, oh·ow) block
of it. The three products use that in the way measured fastest with NumPy/OpenBLAS:
- Y = W · cols (and dcols = Wᵀ · dY, where it is made) run image by image inside ONE
  batched `matmul` call, each writing its block in place (the forward straight into the
  NCHW output, so no transposed copy); for small images (< PER_IMAGE_PIXELS outputs) the
  forward is one GEMM over the batch instead, transposed to NCHW afterwards;
- dW = dY · colsᵀ is ONE GEMM over the whole batch (the batch joins the contraction);
  for large images the per-image products are cheaper, and are summed.
Channels last. With many input channels the rows layout (N·oh·ow, kh·kw·C) of `im2row`
is faster: x is copied once to (N, H, W, C) order, where a window's row is kw·C adjacent
numbers, so the unfolding copies runs of that length (one copy, no loop), the forward is
ONE GEMM rows · Wᵀ whose (N·oh·ow, O) result is transposed to NCHW, and dWᵀ = rowsᵀ · dY
another. `channels_last` picks it when kw·C ≥ CHANNELS_LAST_RUN (and groups = 1): on W3's
second layer (kw·C = 80) the forward and weight gradient took half the time of the
columns layout; on its first (C = 1) the runs would be 5 numbers long, and it stays
channels first. The input gradient does not read the columns and is the same for both.
Unfolding is two copies through strided views, never a loop over pixels: first the kw
column shifts of every input row, then the kh row shifts, which copy whole (oh·ow)
planes at a time. Each stage is a small loop over kernel offsets.

Note [input gradient]. Written out, the input gradient (padded) is

    dx[n, c, y, x] = Σ_{o,i,j,r,s} w[o, c, i, j] · g[n, o, r, s] · [y = r·sh + i·dh] · [x = s·sw + j·dw]

The sum over the column offsets j moves columns s to x, the one over the row offsets i
moves rows r to y, and the products over o fit between them. So the rows

    rows[i, c, n, r, x] = Σ_{o,j} w[o, c, i, j] · g[n, o, r, s] · [x = s·sw + j·dw]

are made first, and then dx[n, c, i·dh + r·sh, :] += rows[i, c, n, r, :]: kh adds of whole
rows. The rows are made in one of two ways, whichever moves fewer numbers:
- spread first: place g's columns at x = j·dw + s·sw for every j (O·kw·wp numbers per
  image row, zeros between; the placement for j is the one for j = 0 shifted by j·dw),
  then ONE product over (o, j) gives the rows;
- multiply first: dcols = Wᵀ · g (C·kh·kw·ow numbers per image row), then kw adds of
  dcols' columns, shifted, into the rows.
On W3's second layer (O = 32 < C·kh = 80) spreading first made the input gradient ~1.5×
faster: its product is wider (wp/ow times the multiplications) but has kw times the
contraction length, and the adds of short (ow-long) runs it saves were the slow part.
Layers with few input channels (W3's first: C = 1) multiply first.

Note [workspace]. The forward's columns are kept for the backward pass, where the weight
gradient needs them again: one array of C·kh·kw·N·oh·ow numbers per convolution, alive
until its backward has run. Unfolding x again instead cost more on W3 (~0.8 ms of an
11 ms step), since the unfolding runs on one core while the products use all of them.
Every other large temporary, one that never leaves an op (the columns when nothing keeps
them, their gradient, the intermediate rows), lives in a reused per-thread scratch buffer.
Fresh large arrays cost a page fault per 4 KiB on first touch unless malloc recycles
them (backend.keep_freed_memory); on W3 those faults were ~40% of a training step.

Note [halves]. The public kernels (`unfold`, `product_nchw`, `weight_grad`,
`conv_transpose`) split the batch in two and run each half's unfolding and products on
its own thread (kernels/halves.py); the functions below them (`im2col`, `im2row`, the
`_part`s) work on one part. So the kept columns are a list of parts, the scratch buffers
are per thread, and a weight gradient is the sum of the parts'.
"""
from __future__ import annotations

import math
import threading

from ..backend import device_of, xp
from .halves import batch_parts, run_parts

# Per-image products pay once an image has this many output pixels (measured on W3).
PER_IMAGE_PIXELS = 256
# Channels-last unfolding pays once a window's row (kw·C numbers) is this long (measured).
CHANNELS_LAST_RUN = 32
# Scratch buffers larger than this are allocated afresh each time instead of kept.
WORKSPACE_LIMIT = 256 * 2 ** 20


class _Workspace(threading.local):
    """Reusable scratch arrays, one per (slot, dtype) and thread (see Note [workspace])."""

    def __init__(self):
        self.buffers = {}

    def take(self, slot: str, shape, dtype, like):
        """An uninitialised array of `shape` on `like`'s device, valid until the next
        `take` of `slot`. CPU only: CuPy keeps freed device memory in its own pool."""
        count = math.prod(shape)
        dtype = xp(like).dtype(dtype)
        if device_of(like) != "cpu" or count * dtype.itemsize > WORKSPACE_LIMIT:
            return xp(like).empty(shape, dtype=dtype)
        key = (slot, dtype.str)
        buffer = self.buffers.get(key)
        if buffer is None or buffer.size < count:
            buffer = self.buffers[key] = xp(like).empty(count, dtype=dtype)
        return buffer[:count].reshape(shape)


workspace = _Workspace()


def out_size(size: int, kernel: int, stride: int, pad_total: int, dilation: int) -> int:
    """Output length of a convolution along one axis (PyTorch's formula, floor mode)."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def _zeros(shape, dtype, like, slot=None):
    """Zeros on `like`'s device, written into memory malloc can recycle (`zeros` maps
    fresh pages)."""
    out = workspace.take(slot, shape, dtype, like) if slot else xp(like).empty(shape, dtype)
    out.fill(0)
    return out


def im2col(x, kernel, stride, padding, dilation, keep=False):
    """Every receptive field of x (N, C, H, W) as a column: an array (C, kh, kw, N, oh, ow)
    with cols[c, i, j, n, r, s] = x_padded[n, c, r·sh + i·dh, s·sw + j·dw].
    The result is scratch, valid until the next im2col call on this thread, unless `keep`
    asks for an array of its own."""
    strided = xp(x).lib.stride_tricks.as_strided
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw), ((pt, pb), (pl, pr)) = kernel, stride, dilation, padding
    if pt or pb or pl or pr:
        padded = _zeros((n, c, h + pt + pb, w + pl + pr), x.dtype, x, "im2col.pad")
        padded[:, :, pt:pt + h, pl:pl + w] = x
        x = padded
    n, c, hp, wp = x.shape
    oh, ow = out_size(hp, kh, sh, 0, dh), out_size(wp, kw, sw, 0, dw)
    s_n, s_c, s_h, s_w = x.strides
    # Stage 1: rows[c, j, n, y, s] = x[n, c, y, j·dw + s·sw]  (the kw column shifts of each row)
    rows = strided(x, (c, kw, n, hp, ow), (s_c, dw * s_w, s_n, s_h, sw * s_w))
    if kw > 1 or sw > 1:
        rows = _copy(rows, "im2col.rows")
    # Stage 2: cols[c, i, j, n, r, s] = rows[c, j, n, i·dh + r·sh, s]  (whole planes when sh = 1)
    r_c, r_j, r_n, r_y, r_s = rows.strides
    cols = strided(rows, (c, kh, kw, n, oh, ow), (r_c, dh * r_y, r_j, r_n, sh * r_y, r_s))
    return _copy(cols, None if keep else "im2col.cols")


def channels_last(channels: int, kernel_width: int, groups: int) -> bool:
    """Whether a convolution unfolds its input channels last (see Note [im2col layout])."""
    return groups == 1 and channels * kernel_width >= CHANNELS_LAST_RUN


def unfold(x, w_shape, stride, padding, dilation, groups):
    """x's receptive fields for a convolution with weights of shape `w_shape`, kept for its
    backward: a list with one array per part of the batch (kernels/halves.py), each in the
    layout `channels_last` picks (`im2row`'s or `im2col`'s)."""
    return run_parts(lambda _, a, b: _unfold_part(x[a:b], w_shape, stride, padding, dilation,
                                                  groups, keep=True), batch_parts(len(x), x))


def _unfold_part(x, w_shape, stride, padding, dilation, groups, keep=False):
    kernel = tuple(w_shape[2:])
    if channels_last(x.shape[1], kernel[1], groups):
        return im2row(x, kernel, stride, padding, dilation, keep)
    return im2col(x, kernel, stride, padding, dilation, keep)


def im2row(x, kernel, stride, padding, dilation, keep=False):
    """Every receptive field of x (N, C, H, W) as a row, channels last: an array
    (N, oh, ow, kh, kw, C) with rows[n, r, s, i, j, c] = x_padded[n, c, r·sh + i·dh, s·sw + j·dw].
    Scratch like im2col's result, unless `keep`."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw), ((pt, pb), (pl, pr)) = kernel, stride, dilation, padding
    hp, wp = h + pt + pb, w + pl + pr
    # x in (N, H, W, C) order: then a window's row is kw·C adjacent numbers (when dw = 1)
    image = workspace.take("im2row.image", (n, hp, wp, c), x.dtype, x)
    if pt or pb or pl or pr:
        image.fill(0)
    image[:, pt:pt + h, pl:pl + w] = x.transpose(0, 2, 3, 1)
    oh, ow = out_size(hp, kh, sh, 0, dh), out_size(wp, kw, sw, 0, dw)
    s_n, s_y, s_x, s_c = image.strides
    windows = xp(x).lib.stride_tricks.as_strided(
        image, (n, oh, ow, kh, kw, c), (s_n, sh * s_y, sw * s_x, dh * s_y, dw * s_x, s_c))
    return _copy(windows, None if keep else "im2row.rows")


def _copy(view, slot):
    """A copy of `view` into the scratch buffer `slot`, or into a fresh array (slot None)."""
    out = workspace.take(slot, view.shape, view.dtype, view) if slot else \
        xp(view).empty(view.shape, view.dtype)
    out[...] = view
    return out


def conv_transpose(grad, weight, x_shape, stride, padding, dilation, groups):
    """The adjoint of the convolution: dL/dx (N, C, H, W) from grad (N, O, oh, ow), the
    column shifts first, then the row shifts (see Note [input gradient]); each part of
    the batch on its own thread (kernels/halves.py)."""
    dx = xp(grad).empty(x_shape, xp(grad).result_type(grad, weight))
    run_parts(lambda _, a, b: _conv_transpose_part(grad[a:b], weight, stride, padding,
                                                   dilation, groups, dx[a:b]),
              batch_parts(len(grad), grad))
    return dx


def _conv_transpose_part(grad, weight, stride, padding, dilation, groups, out):
    o, cg, kh, kw = weight.shape
    n, _, oh, ow = grad.shape
    (sh, _), (dh, _), ((pt, pb), (pl, pr)) = stride, dilation, padding
    h, w = out.shape[2], out.shape[3]
    hp, wp = h + pt + pb, w + pl + pr
    dtype = out.dtype
    rows = workspace.take("rows", (groups, kh, cg, n, oh, wp), dtype, grad)
    if o * wp < groups * cg * kh * ow:
        _spread_then_multiply(grad, weight, stride, dilation, groups, rows)
    else:
        _multiply_then_spread(grad, weight, stride, dilation, groups, rows)
    # dx[n, (g, c), i·dh + r·sh, x] += rows[g, i, c, n, r, x]: kh adds of whole rows
    padded = pt or pb or pl or pr
    dx = workspace.take("dx.pad", (n, groups * cg, hp, wp), dtype, grad) if padded else out
    dx.fill(0)
    target = dx.transpose(1, 0, 2, 3).reshape(groups, cg, n, hp, wp)
    span_h = (oh - 1) * sh + 1
    for i in range(kh):
        target[:, :, :, i * dh:i * dh + span_h:sh] += rows[:, i]
    if padded:
        out[...] = dx[:, :, pt:pt + h, pl:pl + w]


def _spread_then_multiply(grad, weight, stride, dilation, groups, rows):
    """rows[g, i, c, n, r, x] = Σ_{o,j} w[g, o, c, i, j] · spread[g, o, j, n, r, x], where
    spread[o, j, n, r, j·dw + s·sw] = grad[n, o, r, s] and is zero elsewhere."""
    o, cg, kh, kw = weight.shape
    n, _, oh, ow = grad.shape
    (_, sw), (_, dw), wp = stride, dilation, rows.shape[-1]
    og, pixels = o // groups, n * oh * wp
    spread = workspace.take("spread", (o, kw, pixels), rows.dtype, grad)
    # j = 0: grad's columns placed at s·sw in rows of width wp, zeros between and after
    placed = spread[:, 0].reshape(o, n, oh, wp)
    placed.fill(0)
    placed[..., :(ow - 1) * sw + 1:sw] = grad.transpose(1, 0, 2, 3)
    # j > 0: the same rows shifted right by j·dw. Every row ends in at least (kw-1)·dw
    # zeros, so shifting the flattened rows moves only zeros into the next row: one long
    # contiguous copy per channel, not one short copy per row.
    for j in range(1, kw):
        shift = j * dw
        spread[:, j, :shift] = 0
        spread[:, j, shift:] = spread[:, 0, :pixels - shift]
    # one product per group, the weights reordered to rows (i, c) and columns (o, j)
    w_rows = weight.reshape(groups, og, cg, kh, kw).transpose(0, 3, 2, 1, 4)
    xp(grad).matmul(w_rows.reshape(groups, kh * cg, og * kw),
                    spread.reshape(groups, og * kw, pixels),
                    out=rows.reshape(groups, kh * cg, pixels))


def _multiply_then_spread(grad, weight, stride, dilation, groups, rows):
    """rows[g, i, c, n, r, j·dw + s·sw] += dcols[g, i, c, j, n, r, s], summed over j, where
    dcols[g, i, c, j, n] = Σ_o w[g, o, c, i, j] · grad[n, g, o] (image by image)."""
    o, cg, kh, kw = weight.shape
    n, _, oh, ow = grad.shape
    (_, sw), (_, dw) = stride, dilation
    og, k = o // groups, kh * cg * kw
    # one batched matmul writing each image's block of dcols in place (no transposed copy)
    dcols = workspace.take("dcols", (groups, k, n, oh * ow), rows.dtype, grad)
    w_cols = weight.reshape(groups, og, cg, kh, kw).transpose(0, 3, 2, 4, 1)
    xp(grad).matmul(w_cols.reshape(groups, k, og), grad.reshape(n, groups, og, oh * ow),
                    out=dcols.transpose(2, 0, 1, 3))
    dcols = dcols.reshape(groups, kh, cg, kw, n, oh, ow)
    rows.fill(0)
    span_w = (ow - 1) * sw + 1
    for j in range(kw):
        rows[..., j * dw:j * dw + span_w:sw] += dcols[:, :, :, j]


def product_nchw(weight, parts, groups):
    """Y = W · cols for every group, returned as a fresh (N, O, oh, ow) array, from
    `unfold`'s parts (either layout), each part on its own thread: see `_product_part`."""
    last = channels_last(weight.shape[1] * groups, weight.shape[3], groups)
    bounds = _part_bounds(parts, last)
    oh, ow = parts[0].shape[1:3] if last else parts[0].shape[4:]
    out = xp(weight).empty((bounds[-1][1], weight.shape[0], oh, ow),
                           dtype=xp(weight).result_type(weight, parts[0]))
    product = _product_channels_last if last else _product_part
    run_parts(lambda i, a, b: product(weight, parts[i], groups, out[a:b]), bounds)
    return out


def _product_part(weight, cols, groups, out):
    """out = W · cols: image by image when images are large (each block written in
    place), else one GEMM whose result is transposed afterwards."""
    o = weight.shape[0]
    c, kh, kw, n, oh, ow = cols.shape
    k = c // groups * kh * kw
    w = weight.reshape(groups, o // groups, k)
    cols = cols.reshape(groups, k, n, oh * ow)
    dtype = out.dtype
    if oh * ow >= PER_IMAGE_PIXELS and device_of(cols) == "cpu":  # (cuBLAS: one GEMM)
        # out[n, g] = w[g] @ cols[g, :, n]  (the images broadcast against the weights)
        xp(cols).matmul(w, cols.transpose(2, 0, 1, 3),
                        out=out.reshape(n, groups, o // groups, oh * ow))
    else:
        y = workspace.take("product", (groups, o // groups, n * oh * ow), dtype, cols)
        xp(cols).matmul(w, cols.reshape(groups, k, n * oh * ow), out=y)
        out[...] = y.reshape(o, n, oh, ow).transpose(1, 0, 2, 3)


def _product_channels_last(weight, rows, groups, out):
    """out = rows · Wᵀ as ONE GEMM (N·oh·ow, kh·kw·C) × (kh·kw·C, O), then to NCHW."""
    n, oh, ow, kh, kw, c = rows.shape
    o = weight.shape[0]
    w_rows = weight.transpose(0, 2, 3, 1).reshape(o, kh * kw * c)  # (O, (i, j, c))
    y = workspace.take("product", (n * oh * ow, o), out.dtype, rows)
    xp(rows).matmul(rows.reshape(n * oh * ow, -1), w_rows.T, out=y)
    out[...] = y.reshape(n, oh, ow, o).transpose(0, 3, 1, 2)


def weight_grad(x, grad, w_shape, parts, stride, padding, dilation, groups):
    """dL/dW (O, C/groups, kh, kw) = grad · colsᵀ per group, from the output gradient
    (N, O, oh, ow) and x's columns: `unfold`'s parts, or made here when `parts` is None.
    Each part of the batch on its own thread, and the parts' gradients summed."""
    if parts is None:
        bounds = batch_parts(len(x), x)
    else:
        bounds = _part_bounds(parts, channels_last(x.shape[1], w_shape[3], groups))
    return sum(run_parts(lambda i, a, b: _weight_grad_part(
        x[a:b], grad[a:b], w_shape, None if parts is None else parts[i], stride, padding,
        dilation, groups), bounds))


def _part_bounds(parts, last: bool) -> list:
    """The (start, stop) in the batch of each of `unfold`'s parts (images on axis 0 of
    channels-last rows, on axis 3 of columns)."""
    bounds, start = [], 0
    for part in parts:
        bounds.append((start, start + part.shape[0 if last else 3]))
        start = bounds[-1][1]
    return bounds


def _weight_grad_part(x, grad, w_shape, cols, stride, padding, dilation, groups):
    o, cg, kh, kw = w_shape
    n, _, oh, ow = grad.shape
    k = cg * kh * kw
    if cols is None:
        cols = _unfold_part(x, w_shape, stride, padding, dilation, groups)
    if channels_last(cg * groups, kw, groups):
        # dWᵀ = rowsᵀ · grad, with grad in (N·oh·ow, O) order
        grad_rows = workspace.take("grad_rows", (n, oh, ow, o), grad.dtype, x)
        grad_rows[...] = grad.transpose(0, 2, 3, 1)
        product = xp(x).matmul(cols.reshape(n * oh * ow, k).T, grad_rows.reshape(-1, o))
        return xp(x).ascontiguousarray(product.T.reshape(o, kh, kw, cg).transpose(0, 3, 1, 2))
    cols = cols.reshape(groups, k, n, oh * ow)
    if oh * ow >= PER_IMAGE_PIXELS and device_of(x) == "cpu":
        # dW[g] = Σ_n grad[n, g] @ cols[g, :, n]ᵀ: large images make good GEMMs, and
        # the per-image products (N, O, C·kh·kw) are small to sum
        per_image = xp(x).matmul(grad.reshape(n, groups, o // groups, oh * ow),
                                 cols.transpose(2, 0, 3, 1))
        return per_image.sum(axis=0).reshape(w_shape)
    # dW[g] = grad[g] @ cols[g]ᵀ as one GEMM over the whole batch, which BLAS ran
    # faster as (cols[g] @ grad[g]ᵀ)ᵀ for these long, thin operands
    grad_cols = workspace.take("grad_cols", (o, n, oh * ow), grad.dtype, x)
    grad_cols[...] = grad.reshape(n, o, oh * ow).transpose(1, 0, 2)
    product = xp(x).matmul(cols.reshape(groups, k, n * oh * ow),
                           grad_cols.reshape(groups, o // groups, n * oh * ow)
                           .transpose(0, 2, 1))
    return xp(x).ascontiguousarray(product.transpose(0, 2, 1)).reshape(w_shape)
