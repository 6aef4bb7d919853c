"""gunicorn's settings (read from the working directory: `gunicorn dingzhou.wsgi`).

BIND          address to listen on (127.0.0.1:8000; the image sets 0.0.0.0:8000)
WEB_CONCURRENCY   worker processes (default 2 × CPUs + 1, at most 8)
WEB_TIMEOUT   seconds before a stuck request's worker is restarted (120: a report-card PDF
              of the whole city takes a few seconds, an export of many rows longer)
"""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * multiprocessing.cpu_count() + 1, 8))
timeout = int(os.environ.get("WEB_TIMEOUT") or 120)
graceful_timeout = 30
# Restart each worker now and then, so a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
# One key=value line per request; the path without its query string, which may hold
# search terms and so citizens' names or phone numbers.
accesslog = "-"
access_log_format = 'access ip=%(h)s method=%(m)s path="%(U)s" status=%(s)s bytes=%(B)s ms=%(M)s forwarded_for="%({x-forwarded-for}i)s"'
errorlog = "-"
# The proxy's X-Forwarded-Proto is read by Django itself (TRUST_X_FORWARDED_PROTO).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
