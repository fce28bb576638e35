"""Where the windows of a 2-D pooling lie, and the strided views that read them.

`Windows` holds the geometry (kernel, stride, padding, dilation, output size, and the
padded frame that contains every window whole); `slices(frame)` gives, for each kernel
offset (i, j), the elements at that offset of every window as one strided view, which is
what the pooling ops in chainrule.ops.pooling loop over (see the notes there).
"""
from __future__ import annotations

from ..backend import xp


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

    def gather(self, frame):
        """The slices copied into one contiguous stack (kh·kw, N, C, oh, ow)."""
        slices = self.slices(frame)
        stack = xp(frame).empty((len(slices),) + slices[0].shape, frame.dtype)
        for p, view in enumerate(slices):
            stack[p] = view
        return stack

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
