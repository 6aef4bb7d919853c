import json

from django.core.management.base import BaseCommand, CommandError

from ops.health import CHECKS


class Command(BaseCommand):
    help = "Run /healthz's checks in this process: exit 0 when all pass, 1 otherwise (for container health checks)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="append", choices=sorted(CHECKS), help="Only this check (repeatable); default: all."
        )

    def handle(self, *args, check=None, **options):
        results = {name: CHECKS[name]() for name in (check or CHECKS)}
        self.stdout.write(json.dumps(results))
        failed = sorted(name for name, result in results.items() if not result["ok"])
        if failed:
            raise CommandError(f"failed: {', '.join(failed)}", returncode=1)
