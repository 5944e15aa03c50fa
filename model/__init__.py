"""Context Encoder (Pathak et al., CVPR 2016): the network, its masks and losses, export and
full-resolution inference. The evaluation lives in ``model.eval``, the tools around it
(training, benchmarks, release, the command lines) in ``model.tools``.

Importing the package imports nothing else (no torch); it only sets the OpenMP wait policy,
which must be set before torch loads. OpenMP threads that busy-wait between torch operations
steal the cores from everything else in the process and on the machine: a training loop
sharing its 2 cores ran 3-11x slower, and the server, whose decoding and encoding threads run
beside the generator, answered 24.6 requests/s at 16 clients instead of 33-35 with sleeping
threads. So idle OpenMP threads sleep unless the environment says otherwise.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
