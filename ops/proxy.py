"""The client's address when a TLS-terminating proxy (nginx) stands between it and gunicorn.

gunicorn sees the proxy's address in REMOTE_ADDR (127.0.0.1, or Docker's bridge), so the
per-address rate limits of the public pages and the API would count the whole city as one
client, and the phone-view log would record the proxy. nginx appends the address it saw to
X-Forwarded-For (`$proxy_add_x_forwarded_for`, deploy/nginx.conf); the entries before it are
whatever the client sent, so only the last one is believed, and only when the deployment says
a proxy is in front (TRUST_X_FORWARDED_PROTO=true, the same trust as the HTTPS header).
"""

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """The client's address: the last X-Forwarded-For entry behind the proxy, else REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR", "")
    if not settings.BEHIND_PROXY:
        return remote
    last = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
    try:
        return str(ipaddress.ip_address(last))
    except ValueError:
        return remote  # no header (a health check from inside), or garbage: the direct peer
