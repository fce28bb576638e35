"""Fused CUDA kernels for the GPU path, written with CuPy's kernel classes.

On a GPU a small training step is bound by kernel launches, not by arithmetic: each CuPy
expression such as `grad * (1 - y * y)` launches one kernel per operator (three there).
The kernels here do such a chain in one launch:

    activation.py     the backward of relu, tanh and sigmoid: one kernel each
    cross_entropy.py  log-softmax + negative log-likelihood: one kernel over the rows
                      forward, one elementwise kernel backward
    optimizer.py      the SGD and Adam updates of every parameter of one dtype in one
                      kernel (PyTorch's "foreach"/"fused" idea)

Each is compiled on first use (CuPy caches the binary); nothing here imports CuPy when
the module is imported, so the CPU never needs it. Ops and optimizers call these only when
`backend.on_gpu(...)` says their arrays are CuPy arrays, and nothing here reads a value
back to the host: a training step queues its kernels and never waits for the device.
"""
