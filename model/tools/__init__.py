"""The tools around the network: training, evaluation, benchmarks, release and the command lines.

They import the core (``model.networks``, ``model.masks``, ``model.inference``, ...); the core
never imports them, so the server ships and runs without any of this package's code.

OpenMP threads that busy-wait between torch operations steal the cores from anything else on
the machine (another process, the data loading of the loop itself): a training loop sharing
its 2 cores ran 3-11x slower. These tools therefore let idle OpenMP threads sleep unless the
environment says otherwise; it only takes effect when torch has not been imported yet.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
