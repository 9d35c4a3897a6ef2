# One image for every service and role (API, relay, consumer); docker-compose.yml
# (and later Kubernetes) picks the process with `command:`. Configured only by env vars.
# APIs: gunicorn -c python:shared.http.server --bind 0.0.0.0:PORT services.<name>.wsgi:app
# (threaded workers, body read timeout, problem+json refusals); JWT_JWKS_URL is required.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml ./
COPY shared ./shared
COPY services ./services
# A regular (non-editable) install: the code runs from site-packages, /src is not needed at runtime.
RUN pip install . && rm -rf /src

# A home directory of its own: gunicorn writes its control socket under ~/.gunicorn.
RUN useradd --system --uid 10001 --create-home --home-dir /home/probashi probashi
USER probashi
WORKDIR /home/probashi

EXPOSE 8001 8002
CMD ["python", "-c", "raise SystemExit('probashi: choose a process with the container command (see docker-compose.yml)')"]
