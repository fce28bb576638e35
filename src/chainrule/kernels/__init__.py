"""Array-only fast routines under the ops: no Tensor, no autograd, only arrays in and out.

The speed tricks live here (reused scratch buffers, sorted scatters, writes through `void`
views, fused loops) so that `chainrule.ops` reads like the math it differentiates.
"""
