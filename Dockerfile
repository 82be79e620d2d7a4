# One image for the three Marsad services (ingest, stream, alerts); compose picks the command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MARSAD_HOME=/var/lib/marsad MARSAD_CONFIG_DIR=/app/config
WORKDIR /app
COPY pyproject.toml README.md ./
COPY marsad ./marsad
COPY ingest ./ingest
COPY stream ./stream
COPY alerts ./alerts
COPY control ./control
COPY config ./config
RUN pip install --no-cache-dir . && useradd --system --home /var/lib/marsad marsad \
    && mkdir -p /var/lib/marsad && chown marsad /var/lib/marsad
USER marsad
ENTRYPOINT ["marsad"]
