"""2-D convolution as a matrix product (im2col), and the two products of its backward.

    y[n, o, r, s] = b[o] + Σ_{c,i,j} w[o, c, i, j] · x[n, c, r·sh + i·dh - pt, s·sw + j·dw - pl]

Unfold every receptive field of x into a column of a matrix `cols` (im2col), and the sum
is a matrix product per group: Y = W · cols. The backward is two more products with the
same matrices:

    dL/dW    = dL/dY · colsᵀ
    dL/dx    = Wᵀ · dL/dY, each column added back where it was read from (col2im; the
               product and the adding are interleaved, see Note [input gradient] in
               kernels/im2col.py)

The unfolding and the products are array routines in chainrule.kernels.im2col (with
the notes on their layout and memory); this module holds the ops and their calculus.

Double backward: the input gradient (`ConvTranspose`) and the weight gradient
(`ConvWeightGrad`) are ops too, and each one's backward is made of the other two and of
`Conv2d`: all three are bilinear, so differentiating one gives the others.
"""
from __future__ import annotations

from ..autograd.op import Op
from ..kernels.im2col import conv_transpose, product_nchw, unfold, weight_grad
from .reduction import Sum


def _geometry(stride, padding, dilation, groups) -> dict:
    """What every convolution op keeps for its backward, as keyword arguments of the others."""
    return dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


class Conv2d(Op):
    # y = W ⋆ x + b  (cross-correlation, as every framework's "conv"):
    #   dL/dx = W ⋆ᵀ g  (ConvTranspose),  dL/dW = g ⋆ x  (ConvWeightGrad),  dL/db = Σ_{n,r,s} g
    torch_name = "ConvolutionBackward0"

    def forward(ctx, x, weight, bias=None, stride=(1, 1), padding=((0, 0), (0, 0)),
                dilation=(1, 1), groups=1):
        # the columns are kept for the weight gradient (see Note [workspace] in kernels/im2col.py)
        cols = unfold(x, weight.shape, stride, padding, dilation, groups)
        out = product_nchw(weight, cols, groups)
        if bias is not None:
            out += bias.reshape(1, -1, 1, 1)
        ctx.geometry = _geometry(stride, padding, dilation, groups)
        ctx.save_for_backward(x, weight, cols)
        return out

    def backward(ctx, grad):
        x, weight, cols = ctx.saved
        g = ctx.geometry
        grad_x = grad_w = grad_b = None
        if ctx.needs_grad(0):
            grad_x = ConvTranspose.call(grad, weight, x_shape=tuple(x.shape), **g)
        if ctx.needs_grad(1):
            grad_w = ConvWeightGrad.call(x, grad, w_shape=tuple(weight.shape), cols=cols, **g)
        if len(ctx.inputs) > 2 and ctx.needs_grad(2):
            grad_b = Sum.call(grad, dim=(0, 2, 3))
        return grad_x, grad_w, grad_b


class ConvTranspose(Op):
    # dx = W ⋆ᵀ g: the input gradient of Conv2d, linear in g and in W:
    #   dL/dg = Conv2d(h, W),  dL/dW = ConvWeightGrad(h, g)   (h the incoming gradient)
    torch_name = "ConvolutionBackward0"

    def forward(ctx, grad, weight, x_shape=(), stride=(1, 1), padding=((0, 0), (0, 0)),
                dilation=(1, 1), groups=1):
        ctx.geometry = _geometry(stride, padding, dilation, groups)
        ctx.save_for_backward(grad, weight)
        return conv_transpose(grad, weight, x_shape, stride, padding, dilation, groups)

    def backward(ctx, h):
        grad, weight = ctx.saved
        g = ctx.geometry
        d_grad = Conv2d.call(h, weight, **g) if ctx.needs_grad(0) else None
        d_weight = ConvWeightGrad.call(h, grad, w_shape=tuple(weight.shape), **g) \
            if ctx.needs_grad(1) else None
        return d_grad, d_weight


class ConvWeightGrad(Op):
    # dW = g ⋆ x: the weight gradient of Conv2d, linear in x and in g:
    #   dL/dx = ConvTranspose(g, H),  dL/dg = Conv2d(x, H)   (H the incoming gradient)
    # `cols`, when given, is unfold(x) already made (by Conv2d's forward).
    def forward(ctx, x, grad, w_shape=(), cols=None, stride=(1, 1), padding=((0, 0), (0, 0)),
                dilation=(1, 1), groups=1):
        ctx.geometry = _geometry(stride, padding, dilation, groups)
        ctx.save_for_backward(x, grad)
        return weight_grad(x, grad, w_shape, cols, stride, padding, dilation, groups)

    def backward(ctx, h):
        x, grad = ctx.saved
        g = ctx.geometry
        d_x = ConvTranspose.call(grad, h, x_shape=tuple(x.shape), **g) \
            if ctx.needs_grad(0) else None
        d_grad = Conv2d.call(x, h, **g) if ctx.needs_grad(1) else None
        return d_x, d_grad
