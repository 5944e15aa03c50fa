# Context Encoder inpainting web app, CPU only.
#
#   docker build -t context-encoder-inpaint .
#   docker run --rm -p 8000:8000 context-encoder-inpaint        # then open http://localhost:8000/
#
# Build arguments:
#   TORCH_VERSION    torch release to install (default 2.13.0, CPU build: the one requirements/lock.txt
#                    is resolved for; `make lock` after changing it)
#   TORCH_INDEX_URL  where the CPU wheel comes from (default PyTorch's CPU wheel index)
#   TORCH_WHEEL      file name of a torch wheel placed in .carry/wheels/ of the build context;
#                    when set it is installed instead of asking TORCH_INDEX_URL (offline builds)
# Runtime environment: CE_PORT (default 8000), CE_HOST (default 0.0.0.0) and the other CE_*
# settings (`ce-serve --help`, docs/architecture.md).

ARG PYTHON_IMAGE=python:3.11-slim

# ---- build: a self-contained virtual environment in /opt/venv ----
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# 1. torch (CPU build), in a layer of its own: the slowest step, changed only by these arguments.
#    It is the one dependency not in requirements/lock.txt (the CPU build's hashes differ from
#    PyPI's); the dependencies it brings are replaced by the locked versions in step 2.
#    Its C++ headers (for building extensions) and C++ test binaries, ~145 MB, are dropped.
#    .dockerignore (rarely changed) is copied along so that the wildcard may match nothing.
ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG TORCH_WHEEL=
COPY .dockerignore .carry/wheels/*.whl /tmp/wheels/
RUN if [ -n "$TORCH_WHEEL" ]; then \
        pip install "/tmp/wheels/$TORCH_WHEEL"; \
    else \
        pip install "torch==${TORCH_VERSION}" --index-url "$TORCH_INDEX_URL"; \
    fi \
    && rm -rf /tmp/wheels \
    && torch_dir="$(python -c 'import os, torch; print(os.path.dirname(torch.__file__))')" \
    && rm -rf "$torch_dir/include" "$torch_dir/test" \
    && python -c "import torch; print('torch', torch.__version__, torch.ones(2).sum().item())"

# 2. every other runtime dependency (OpenCV's contrib build included) from the lock, each file
#    checked against its sha256 (`make lock` refreshes the lock; cached until it changes).
WORKDIR /src
COPY requirements/lock.txt ./requirements/
RUN pip install --require-hashes --no-deps -r requirements/lock.txt

# 3. the app itself, as a regular (non-editable) install: templates, static files and the shipped
#    weights in model/weights/ travel as package data, so nothing below needs the source tree.
COPY README.md ./
COPY app ./app
COPY model ./model
COPY static ./static
COPY templates ./templates
COPY pyproject.toml ./
RUN pip install --no-deps --no-build-isolation . \
    && pip check \
    && cd / && python -c "import sys, pathlib, model; w = pathlib.Path(model.__file__).parent / 'weights'; \
print('shipped weights:', sorted(p.name for p in w.glob('*.pt'))); \
(w / 'ce-region.pt').is_file() or sys.exit('model/weights/ce-region.pt is missing: the server cannot start without its default weights')"

# ---- runtime: slim base + the venv, unprivileged user ----
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CE_HOST=0.0.0.0 \
    CE_PORT=8000
RUN /usr/sbin/groupadd --gid 10001 ce \
    && /usr/sbin/useradd --uid 10001 --gid ce --create-home --home-dir /home/ce --shell /usr/sbin/nologin ce
COPY --from=build /opt/venv /opt/venv
WORKDIR /home/ce
USER ce
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CE_PORT', '8000'), timeout=4)"]
CMD ["ce-serve"]
