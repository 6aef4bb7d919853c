"""python manage.py anonymise_closed [--years N] [--dry-run] [--batch-size B]

Erases citizens' names and phones of cases closed more than N years ago (feedback.retention;
N defaults to settings.PERSONAL_DATA_RETENTION_YEARS, 3). The last line of output is always
`cutoff=... suggestions=S names=N phones=P tasks=T import_files=F` (with ` dry_run=1` when
nothing was changed).
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from feedback.retention import BATCH_SIZE, closed_cases_anonymise


class Command(BaseCommand):
    help = "Anonymise the citizen name and phone of suggestions whose task was closed more than N years ago."

    def add_arguments(self, parser):
        parser.add_argument(
            "--years", type=int, default=None,
            help=f"closed more than this many years ago (default {settings.PERSONAL_DATA_RETENTION_YEARS}, "
                 "from PERSONAL_DATA_RETENTION_YEARS)",
        )
        parser.add_argument("--dry-run", action="store_true", help="count what would change, change nothing")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="rows per transaction")

    def handle(self, *args, years, dry_run, batch_size, **options):
        if years is not None and years < 1:
            raise CommandError("--years must be at least 1.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        result = closed_cases_anonymise(years=years, dry_run=dry_run, batch_size=batch_size)
        if dry_run:
            self.stdout.write("Dry run: nothing was changed. These would be anonymised:")
        self.stdout.write(result.summary())
