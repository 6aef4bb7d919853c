# The one image for web (gunicorn), worker and beat (Celery) and the one-shot migrate.
# Build: docker build -t dingzhou .   Run: see compose.yaml and README "Deploy".
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BIND=0.0.0.0:8000 \
    MEDIA_ROOT=/app/media \
    BACKUP_DIR=/app/backups

# WeasyPrint (report-card PDFs) needs Pango and HarfBuzz, Chinese needs a CJK font, and
# `manage.py backup` needs pg_dump/pg_restore of the server's major version (compose: 15).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk postgresql-client-15 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Hashed, compressed static files for WhiteNoise, made once in the image; the values are
# placeholders that only let the settings load (collectstatic reaches no database).
RUN DEBUG=false SECRET_KEY=collectstatic-only ALLOWED_HOSTS=build python manage.py collectstatic --noinput \
 && useradd --system --uid 10001 --home-dir /app dingzhou \
 && mkdir -p var/beat media backups \
 && chown -R dingzhou var media backups

USER dingzhou
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=15s --start-period=120s CMD ["python", "bin/http-health"]
CMD ["gunicorn", "dingzhou.wsgi"]
