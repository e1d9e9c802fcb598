# mailbot: one process with SMTP, web, workers and scheduler (see docs/deploy.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY pyproject.toml README.md ./
COPY mailbot ./mailbot
COPY templates ./templates
COPY rules ./rules
# Installed in place like the README's install: templates/ and rules/ live next to the package.
RUN pip install -e .

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home mailbot \
    && mkdir -p /app/var \
    && chown mailbot:mailbot /app/var
USER mailbot

ENV SMTP_LISTEN=0.0.0.0:2525 \
    WEB_LISTEN=0.0.0.0:8080 \
    RULES_FILE=/app/rules/house.toml \
    MAILDIR=/app/var/outbox \
    LOG_LEVEL=INFO

EXPOSE 2525 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ['WEB_LISTEN'].rpartition(':')[2]; sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/health', timeout=4).status == 200 else 1)"]

CMD ["sh", "-c", "mailbot migrate && exec mailbot serve"]
