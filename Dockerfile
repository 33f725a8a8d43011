# syntax=docker/dockerfile:1
# learnworlds-mcp, the remote server (Streamable HTTP), for one or several replicas.
#   docker build -t learnworlds-mcp .
# No secret is baked in: the school's credentials, LEARNWORLDS_STATE_KEY and the members file
# come from the environment and a read-only mount at run time (see compose.yaml).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# The locked dependencies first (a layer that survives code changes), then the project itself.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --extra redis --no-install-project
COPY README.md LICENSE ./
COPY src ./src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --extra redis --no-editable

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 learnworlds \
 && useradd --system --uid 10001 --gid learnworlds --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin learnworlds
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# Liveness and Redis: /healthz answers 200 {"status": "ok"}, or 503 "degraded" while the shared
# state in Redis is out of reach.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["learnworlds-mcp"]
CMD ["--transport", "http", "--host", "0.0.0.0", "--port", "8000"]
