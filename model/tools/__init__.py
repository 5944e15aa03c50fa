"""The tools around the network: training, evaluation, benchmarks, release and the command lines.

They import the core (``model.networks``, ``model.hole_samplers``, ``model.inference``, ...); the core
never imports them, so the server ships and runs without any of this package's code. The
OpenMP wait policy they need is set by ``model`` itself, which is imported first.
"""
