"""A stand-in for IPython's one name a ported program imports without calling
(`from IPython.core.debugger import set_trace`, pytorch/tutorials' nn_tutorial): the
standard library's debugger breakpoint under IPython's path. Used only by scripts/ports.py,
where IPython is not installed."""
