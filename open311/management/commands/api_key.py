"""Manage Open311 API keys.

    python manage.py api_key create NAME [--channel sunshine] [--rate-limit 60]   # the key is the last line
    python manage.py api_key revoke NAME
    python manage.py api_key list
"""

from django.core.management.base import BaseCommand, CommandError

from feedback.models import Channel
from tasks.errors import DomainError

from ... import services
from ...models import ApiKey


class Command(BaseCommand):
    help = "Create, revoke or list the API keys of external systems (Open311)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, title="actions")
        create = sub.add_parser("create", help="Create a key; prints it once, on the last line.")
        create.add_argument("name", help="The external system, e.g. 省12345平台.")
        create.add_argument("--channel", default=Channel.OTHER, choices=Channel.values,
                            help="The channel recorded on its suggestions (default: other).")
        create.add_argument("--rate-limit", type=int, default=60, help="Requests a minute (default 60).")
        create.add_argument("--note", default="")
        revoke = sub.add_parser("revoke", help="Revoke the system's active key.")
        revoke.add_argument("name")
        sub.add_parser("list", help="The keys, without their secrets.")

    def handle(self, *args, action, **options):
        try:
            if action == "create":
                key, raw = services.api_key_create(
                    name=options["name"], channel=options["channel"], rate_limit=options["rate_limit"],
                    note=options["note"],
                )
                if options["verbosity"] > 0:
                    self.stderr.write(f"Created the key of {key.name} ({key.key_lookup}…); it is not shown again.")
                # Only the key on stdout, last: scripts take the last line.
                self.stdout.write(raw)
            elif action == "revoke":
                key = services.api_key_revoke(name=options["name"])
                self.stdout.write(f"Revoked the key of {key.name} ({key.key_lookup}…).")
            else:
                for key in ApiKey.objects.order_by("name", "-created_at"):
                    state = "active" if key.is_active else f"revoked {key.revoked_at:%Y-%m-%d %H:%M}"
                    self.stdout.write(f"{key.name}\t{key.key_lookup}…\t{key.channel}\t{key.rate_limit}/min\t{state}")
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
