# One image for the three Marsad services (ingest, stream, alerts); compose picks the command.
# Dependencies come from uv.lock, exactly as in development and CI (no torch/CUDA: see the
# README's "Installing"); uv itself is removed once it has installed them.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MARSAD_HOME=/var/lib/marsad MARSAD_CONFIG_DIR=/app/config \
    UV_PROJECT_ENVIRONMENT=/usr/local UV_NO_CACHE=1 UV_COMPILE_BYTECODE=0
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY marsad ./marsad
COPY ingest ./ingest
COPY stream ./stream
COPY alerts ./alerts
COPY control ./control
COPY config ./config
RUN pip install --no-cache-dir uv==0.13.9 \
    && uv sync --frozen --no-editable --inexact \
    && pip uninstall --yes uv \
    && useradd --system --home /var/lib/marsad marsad \
    && mkdir -p /var/lib/marsad && chown marsad /var/lib/marsad
USER marsad
ENTRYPOINT ["marsad"]
