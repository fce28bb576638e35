"""Where the windows of a 2-D pooling lie, and the strided views that read them.

`Windows` holds the geometry (kernel, stride, padding, dilation, output size, and the
padded frame that contains every window whole); `slices(frame)` gives, for each kernel
offset (i, j), the elements at that offset of every window as one strided view, which is
what the pooling ops in chainrule.ops.pooling loop over (see the notes there).
`Windows.stack_max`, `first_maxima` and `scatter` do a max pool's array work, each half
of the batch on its own thread (kernels/halves.py).
"""
from __future__ import annotations

from ..backend import device_of, xp
from .halves import batch_parts, run_parts


def pool_out_size(size: int, kernel: int, stride: int, pad: int, dilation: int,
                  ceil_mode: bool) -> int:
    """PyTorch's pooling output length; in ceil mode the last window must start inside
    the input or its left padding."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


class Windows:
    """Where the pooling windows of an (N, C, H, W) input lie: kernel, stride, padding,
    dilation, output size, and the padded frame that holds every window whole."""

    __slots__ = ("kernel", "stride", "padding", "dilation", "in_size", "out_size",
                 "frame", "overlap", "tiles")

    def __init__(self, in_size, kernel, stride, padding, dilation=(1, 1), ceil_mode=False):
        self.in_size = tuple(in_size)
        self.kernel, self.stride = tuple(kernel), tuple(stride)
        self.padding, self.dilation = tuple(padding), tuple(dilation)
        self.out_size = tuple(pool_out_size(n, k, s, p, d, ceil_mode) for n, k, s, p, d in
                              zip(in_size, kernel, stride, padding, dilation))
        # The padded frame: the input starts at `padding`; windows may reach past its end
        # in ceil mode, so the frame is as large as the farthest window needs.
        self.frame = tuple(max(n + p, (o - 1) * s + (k - 1) * d + 1)
                           for n, p, o, s, k, d in zip(in_size, padding, self.out_size,
                                                       stride, kernel, dilation))
        self.overlap = any((k - 1) * d + 1 > s for k, s, d in zip(kernel, stride, dilation))
        # Whether the windows cover the frame exactly once (kernel = stride, sizes divisible)
        self.tiles = self.frame_shape(()) == in_size and all(
            d == 1 and s == k and o * s == n for n, k, s, d, o in
            zip(in_size, kernel, stride, dilation, self.out_size))

    def offsets(self):
        """The kernel offsets (i, j) in row-major order (PyTorch's scan order)."""
        (kh, kw) = self.kernel
        return [(i, j) for i in range(kh) for j in range(kw)]

    def slice(self, i: int, j: int):
        """Index of the elements at offset (i, j) of every window, in the padded frame."""
        (oh, ow), (sh, sw), (dh, dw) = self.out_size, self.stride, self.dilation
        return (slice(None), slice(None),
                slice(i * dh, i * dh + (oh - 1) * sh + 1, sh),
                slice(j * dw, j * dw + (ow - 1) * sw + 1, sw))

    def frame_shape(self, lead) -> tuple:
        """Shape of the padded frame for leading dims `lead` (N, C)."""
        (ph, pw), (fh, fw), (h, w) = self.padding, self.frame, self.in_size
        return tuple(lead) + (max(fh, h + ph), max(fw, w + pw))

    def slices(self, frame) -> list:
        """The elements at each kernel offset of every window: one strided view of the
        padded frame per offset, shaped (N, C, oh, ow)."""
        return [frame[self.slice(i, j)] for i, j in self.offsets()]

    def stack_max(self, frame):
        """The slices copied into one contiguous stack (kh·kw, N, C, oh, ow), and its
        maximum over the kernel offsets (N, C, oh, ow); each half of the batch on its own
        thread (kernels/halves.py)."""
        slices = self.slices(frame)
        stack = xp(frame).empty((len(slices),) + slices[0].shape, frame.dtype)
        y = xp(frame).empty(slices[0].shape, frame.dtype)

        def part(_, a, b):
            for p, view in enumerate(slices):
                stack[p, a:b] = view[a:b]
            stack[:, a:b].max(axis=0, out=y[a:b])
        run_parts(part, batch_parts(len(frame), frame))
        return stack, y

    def pad(self, x, value):
        """x placed in the padded frame filled with `value` (x itself when it fits)."""
        (ph, pw), (h, w) = self.padding, self.in_size
        shape = self.frame_shape(x.shape[:2])
        if shape == x.shape:
            return x
        out = xp(x).full(shape, value, dtype=x.dtype)
        out[:, :, ph:ph + h, pw:pw + w] = x
        return out

    def crop(self, frame):
        """The input's part of a padded frame (the adjoint of `pad`)."""
        (ph, pw), (h, w) = self.padding, self.in_size
        if frame.shape[2:] == (h, w):
            return frame
        return xp(frame).ascontiguousarray(frame[:, :, ph:ph + h, pw:pw + w])

    def flat_indices(self, masks):
        """PyTorch's `return_indices`: the flat position (row·W + col) in the unpadded
        input of the element each mask marks, summed over the exclusive masks."""
        (oh, ow), (sh, sw), (dh, dw) = self.out_size, self.stride, self.dilation
        (ph, pw), (_, w) = self.padding, self.in_size
        rows = xp(masks[0]).arange(oh).reshape(oh, 1) * sh - ph
        cols = xp(masks[0]).arange(ow).reshape(1, ow) * sw - pw
        index = None
        for (i, j), m in zip(self.offsets(), masks):
            place = (rows + i * dh) * w + cols + j * dw
            term = m * place
            index = term if index is None else index + term
        return index.astype("int64")


def winner_index(stack, y, windows):
    """Where each window's maximum y lies in the padded frame, as flat indices into it
    (shaped like y): the first offset, in scan order, whose row of the contiguous `stack`
    (`Windows.stack_max`) holds it, as PyTorch picks. Non-overlapping windows only, so
    no two outputs share a position (see `scatter_at`).

    The offset p of the first maximum is found without a loop over windows: with
    d_q = [stack[q] != y] (1 where offset q is not a maximum),
        p = d_0 · (1 + d_1 · (1 + d_2 · (… (1 + d_{K-2}))))
    counts the leading non-maxima; then index = origin of the window + offset p's place."""
    count = len(stack)
    code = xp(y).empty(y.shape, dtype="uint8" if count < 256 else "uint16")
    differs = xp(y).empty(y.shape, dtype=bool)
    code.fill(0)
    for q in range(count - 2, -1, -1):  # Horner's rule, from the innermost factor out
        code += 1
        xp(y).not_equal(stack[q], y, out=differs)
        code *= differs
    fw, (dh, dw) = windows.frame_shape(())[-1], windows.dilation
    places = xp(y).asarray([i * dh * fw + j * dw for i, j in windows.offsets()], dtype="int64")
    index = places.take(code)
    index += _origins(y, windows)
    return index


def _origins(like, windows):
    """The flat index of every window's first element in the padded frame (N, C, fh, fw),
    for outputs shaped like `like`; kept for the last few shapes (a training loop asks for
    the same ones every step)."""
    key = (like.shape, windows.stride, windows.frame_shape(()), device_of(like))
    found = _origin_cache.get(key)
    if found is None:
        m = xp(like)
        n, c, oh, ow = like.shape
        (fh, fw), (sh, sw) = windows.frame_shape(())[-2:], windows.stride
        found = ((m.arange(n * c, dtype="int64").reshape(n, c, 1, 1) * fh
                  + m.arange(oh).reshape(oh, 1) * sh) * fw + m.arange(ow) * sw)
        if len(_origin_cache) >= 8:
            _origin_cache.pop(next(iter(_origin_cache)))
        _origin_cache[key] = found
    return found


_origin_cache: dict = {}


def scatter_at(grad, windows, index):
    """The padded frame (N, C, *frame) holding grad at the flat positions `index` (distinct,
    from `winner_index`) and zeros elsewhere."""
    frame = xp(grad).empty(windows.frame_shape(grad.shape[:2]), dtype=grad.dtype)
    frame.fill(0)
    frame.reshape(-1)[index.reshape(-1)] = grad.reshape(-1)
    return frame


def gather_at(x, windows, index):
    """The values of x's padded frame at the flat positions `index`, shaped like it."""
    return windows.pad(x, 0).reshape(-1)[index.reshape(-1)].reshape(index.shape)


def first_maxima(slices, y):
    """For each kernel offset, where its slice (or row of the stack) holds its window's
    maximum y and no earlier offset did (ties go to the first, as PyTorch): exclusive
    boolean masks shaped like y, each half of the batch on its own thread."""
    masks = [xp(y).empty(y.shape, dtype=bool) for _ in slices]

    def part(_, a, b):
        taken = None
        for view, m in zip(slices, masks):
            m = m[a:b]
            xp(y).equal(view[a:b], y[a:b], out=m)
            if taken is None:
                taken = m.copy()
            else:
                m &= ~taken
                taken |= m
    run_parts(part, batch_parts(len(y), y))
    return masks


def scatter(grad, windows, weights=None):
    """The frame (N, C, *windows.frame) with each output's value spread over its window:
    frame[window o, offset p] += grad[o] · weights[p] (weights None: 1), each half of the
    batch on its own thread. Every element is written once where the windows tile the
    frame; elsewhere the frame starts from zeros."""
    shape = windows.frame_shape(grad.shape[:2])
    frame = (xp(grad).empty if windows.tiles else xp(grad).zeros)(shape, dtype=grad.dtype)
    slices = windows.slices(frame)

    def part(_, a, b):
        g = grad[a:b]
        for p, view in enumerate(slices):
            view = view[a:b]
            if windows.overlap:
                view += g if weights is None else g * weights[p][a:b]
            elif weights is None:  # every frame element belongs to one window at most
                view[...] = g
            else:
                xp(grad).multiply(g, weights[p][a:b], out=view)
    run_parts(part, batch_parts(len(grad), grad))
    return frame
