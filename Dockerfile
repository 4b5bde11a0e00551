# syntax=docker/dockerfile:1
# Loupe's container image: `docker build -t loupe .`; `compose.yaml` runs it on PostgreSQL.
# docs/deploy.md explains the volumes, the first admin, the keys and upgrades.

ARG PYTHON_IMAGE=python:3.11-slim

# ---- builder: Loupe's wheel and the wheels of everything it needs ----
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# Extras baked into the image: postgres (psycopg) always; add images / anchor with
# `--build-arg EXTRAS=postgres,images`.
ARG EXTRAS=postgres
RUN python -m pip wheel --wheel-dir /wheels ".[${EXTRAS}]"

# ---- runtime: the wheels installed, no compiler, no sources, a user without rights ----
FROM ${PYTHON_IMAGE} AS runtime
ARG EXTRAS=postgres
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    python -m pip install --no-index --find-links /wheels "loupe[${EXTRAS}]"

# uid/gid 10001: not root, and not an id the host is likely to have given someone.
RUN groupadd --system --gid 10001 loupe \
    && useradd --system --uid 10001 --gid loupe --home-dir /var/lib/loupe --shell /usr/sbin/nologin loupe \
    && install -d -o loupe -g loupe -m 0700 /var/lib/loupe /var/lib/loupe/models /var/lib/loupe-keys

# SQLite by default (one container); compose.yaml sets a PostgreSQL URL instead. The key
# directory is its own volume: back it up apart from the database (docs/deploy.md).
ENV LOUPE_DATABASE_URL=sqlite:////var/lib/loupe/loupe.db \
    LOUPE_KEY_DIR=/var/lib/loupe-keys \
    LOUPE_MODEL_DIR=/var/lib/loupe/models \
    WEB_CONCURRENCY=2
VOLUME ["/var/lib/loupe", "/var/lib/loupe-keys"]

USER loupe:loupe
WORKDIR /var/lib/loupe
EXPOSE 8000

# /api/v1/health answers 200 only when the database takes a write (rolled back) and the
# data directories have free space; curl is not in the slim image, Python is.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health', timeout=4).status != 200)"]

# `loupe init` migrates the database, creates the keys and binds them to it (the first
# start also creates the admin and prints its token once); it is idempotent. Then serve
# on every interface with WEB_CONCURRENCY worker processes.
CMD ["sh", "-c", "loupe init && exec loupe serve --host 0.0.0.0 --port 8000 --workers \"${WEB_CONCURRENCY}\""]
