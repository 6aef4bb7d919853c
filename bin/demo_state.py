"""Print what bin/run needs to know, from one Django start-up: "<demo> <database> <broker>".

<demo> is "empty" (no township: load the demo), "unfinished" (the demo's accounts are
there but its generated year is not, as after a Ctrl-C during load_demo: load it again;
load_demo is idempotent), or "loaded" (any other data: leave it alone). The test is
cheap on purpose: a full load_demo run takes minutes even when it has nothing to do.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dingzhou.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

from org.models import Township, User  # noqa: E402


def demo_state() -> str:
    """Whether bin/run should (re)load the demo."""
    if not Township.objects.exists():
        return "empty"
    try:
        from tasks.demo.year import year_exists
    except ImportError:
        return "loaded"
    demo_accounts = User.objects.filter(username="leader", email="leader@dingzhou.example.gov.cn")
    return "unfinished" if demo_accounts.exists() and not year_exists() else "loaded"


print(demo_state(), connection.vendor, settings.CELERY_BROKER_URL.split(":")[0])
