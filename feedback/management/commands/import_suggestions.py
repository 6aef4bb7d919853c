"""python manage.py import_suggestions FILE [--dry-run] [--errors OUT] [--sheet NAME] [--user USERNAME]

The last line of output is always `imported=N duplicates=D errors=E`.
"""


from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from feedback.importers import BATCH_SIZE, open_table, suggestion_import
from feedback.importers.report import write_error_report
from tasks.errors import DomainError

FIRST_ERRORS = 20


class Command(BaseCommand):
    help = "Import suggestions from a CSV or XLSX file laid out as the bulk import template."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx or .csv file (UTF-8, UTF-8 with BOM, GBK or GB18030)")
        parser.add_argument("--dry-run", action="store_true", help="check every row and count, but write nothing")
        parser.add_argument("--errors", metavar="OUT", help="write the rows not imported to OUT (.csv or .xlsx)")
        parser.add_argument("--sheet", metavar="NAME", help="the sheet to read (default: the first)")
        parser.add_argument("--user", metavar="USERNAME", help="record this registrar as registered_by")
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="rows per transaction")

    def handle(self, *args, file, dry_run, errors, sheet, user, batch_size, verbosity, **options):
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(_("There is no user %(username)s.") % {"username": user})
        if batch_size < 1:
            raise CommandError(_("--batch-size must be at least 1."))
        try:
            table = open_table(file, sheet=sheet)
        except FileNotFoundError as exc:
            raise CommandError(_("There is no file %(path)s.") % {"path": file}) from exc
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        if table.header.unknown:
            self.stderr.write(
                _("Unknown columns, not imported: %(columns)s") % {"columns": "、".join(table.header.unknown)},
                style_func=self.style.WARNING,
            )
        progress = _Progress(self.stderr, table.count_rows() if self._interactive() else 0)
        try:
            result = suggestion_import(
                table=table, actor=actor, dry_run=dry_run, batch_size=batch_size, on_batch=progress.advance
            )
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        progress.finish()

        for error in result.error_rows[:FIRST_ERRORS]:
            self.stdout.write(_("row %(row)d: %(reason)s") % {"row": error.row, "reason": error.reason})
        if result.errors > FIRST_ERRORS:
            self.stdout.write(_("… and %(count)d more rows with errors") % {"count": result.errors - FIRST_ERRORS})
        if verbosity >= 2:
            for duplicate in result.duplicate_rows:
                self.stdout.write(_("row %(row)d: %(reason)s") % {"row": duplicate.row, "reason": duplicate.reason})
        if errors:
            write_error_report(errors, headers=result.headers, rows=result.error_rows)
            self.stderr.write(_("Error report written to %(path)s") % {"path": errors}, style_func=_plain)
        if dry_run:
            self.stderr.write(_("Dry run: nothing was written."), style_func=_plain)
        self.stdout.write(result.summary())

    def _interactive(self) -> bool:
        return getattr(self.stderr._out, "isatty", lambda: False)()


def _plain(text: str) -> str:
    return text  # information on stderr (stdout is kept for rows and the summary), not an error


class _Progress:
    """A one-line bar on the terminal (stderr), redrawn after each committed batch."""

    WIDTH = 30

    def __init__(self, out, total: int):
        self.out, self.total, self.done, self.errors = out, total, 0, 0

    def advance(self, batch) -> None:
        self.done += batch.rows
        self.errors += batch.errors
        if not self.total:
            return
        filled = self.WIDTH * self.done // self.total
        self.out._out.write(
            "\r[" + "#" * filled + " " * (self.WIDTH - filled) + "] "
            + _("%(done)d/%(total)d rows, %(errors)d errors") % {"done": self.done, "total": self.total,
                                                                  "errors": self.errors}
        )
        self.out._out.flush()

    def finish(self) -> None:
        if self.total:
            self.out._out.write("\n")
