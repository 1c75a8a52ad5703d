# syntax=docker/dockerfile:1
# One image for every salesflow worker, the gateway and the one-shot setup job:
#   docker build -t salesflow .
#   docker run --rm salesflow worker lead
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

RUN pip install --no-cache-dir "uv==0.13.9"

WORKDIR /app

# Dependencies first: this layer is rebuilt only when pyproject.toml or uv.lock change.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

# Then the project itself (README.md: pyproject's `readme`, needed to build the package).
COPY README.md ./
COPY contracts/ ./contracts/
COPY shared/ ./shared/
COPY services/ ./services/
COPY salesflow/ ./salesflow/
COPY simulator/ ./simulator/
COPY gateway/ ./gateway/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

# The sample price list, accounts and leads: the setup job loads the price list, and
# `salesflow leads import samples/leads.csv` works in a container as on a checkout.
COPY samples/ ./samples/

RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /app salesflow
USER salesflow

ENV PATH="/app/.venv/bin:$PATH" \
    SALESFLOW_HEALTH_HOST=0.0.0.0 \
    SALESFLOW_HEALTH_PORT=8080
EXPOSE 8080

ENTRYPOINT ["salesflow"]
CMD ["--help"]
