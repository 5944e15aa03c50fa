"""Context Encoder (Pathak et al., CVPR 2016): the network, its masks and losses, export and
full-resolution inference. The tools around it (training, evaluation, benchmarks, command
lines) live in ``model.tools``.

Importing the package imports nothing else (no torch), so ``model.tools`` can set the OpenMP
environment before torch loads.
"""
