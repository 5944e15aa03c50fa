"""FastAPI server of the Context Encoder inpainting web app (``uvicorn app.main:app``)."""

import os

# before any module of the server imports torch (OpenMP reads it once): the server runs all
# torch work in one thread (app.compute), whose team may spin briefly for the next operation
# of a forward pass instead of sleeping after each (a one-window pass: 18 -> 11 ms). Longer
# spins cost more than they gain once another thread wants the core: a light request beside
# two heavy ones took 83 ms with 10,000 spins, 61 with 1,000, 59 with none
os.environ.setdefault("GOMP_SPINCOUNT", "1000")

import model  # noqa: F401  (lets idle OpenMP threads sleep: OMP_WAIT_POLICY=PASSIVE)
