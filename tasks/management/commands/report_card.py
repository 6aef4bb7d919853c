"""`manage.py report_card --scope city|department NAME|township NAME --period P [--format json|pdf]`.

Prints one report card with the same code as the pages (tasks.reportcards). JSON keys
are DOMAIN.md's code names; rates are fractions (0.935), null when nothing was counted,
and "details" holds each rate's numerator and denominator and, under "excluded", how many
records approved score exclusions (核减) took out of a figure.

    python manage.py report_card --scope department 住建局 --period 2021-Q3
    python manage.py report_card --scope township 留早 --period 2021-10 --live
    python manage.py report_card --refresh-rollups
"""

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tasks.errors import DomainError
from tasks.reportcards import AUTO, LIVE, ROLLUP, parse_period, report_card, resolve_scope, rollups_refresh

PDF_NOT_AVAILABLE = "PDF output needs the report pages; not available yet."


def _parse_now(value: str):
    at = None
    try:
        at = parse_datetime(value)
    except ValueError:
        pass
    if at is None:
        raise CommandError(f"--now {value!r} is not an ISO date-time such as 2021-11-15T09:00:00+08:00")
    return timezone.make_aware(at) if timezone.is_naive(at) else at


def _pdf_renderer():
    """The pages' renderer, `tasks.reportcards.pdf.render_pdf(card) -> bytes`, once the report pages provide it."""
    try:
        from tasks.reportcards.pdf import render_pdf  # noqa: PLC0415  (optional: added with the report pages)
    except ModuleNotFoundError as exc:
        if exc.name != "tasks.reportcards.pdf":
            raise  # the module exists but lacks a dependency: say so, not "not available yet"
        return None
    return render_pdf


class Command(BaseCommand):
    help = "Print the report card (成绩单) of the city, a department or a township for a period."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scope", nargs="+", metavar="KIND [NAME]",
            help="city, department NAME (name, short name or code) or township NAME (name or short name).",
        )
        parser.add_argument("--period", help="2021, 2021-Q3, 2021-10, 2021-10-25 or 2021-10-01..2021-10-15.")
        parser.add_argument("--format", choices=["json", "pdf"], default="json")
        parser.add_argument("--output", help="File to write (required for pdf; json goes to standard output).")
        parser.add_argument("--now", help="Count overdue tasks as of this time (ISO 8601; local time if no offset).")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--live", action="store_true", help="Count the records now, ignoring the rollups.")
        source.add_argument("--rollup", action="store_true", help="Sum the rollups however old they are.")
        parser.add_argument(
            "--refresh-rollups", action="store_true", help="Rebuild the daily rollups first (alone: only that)."
        )

    def handle(self, *args, scope=None, period=None, refresh_rollups=False, **options):
        if refresh_rollups:
            refresh = rollups_refresh()
            if refresh is None:
                self.stderr.write("Another refresh of the rollups is running; skipped.")
            else:
                self.stderr.write(f"Rollups rebuilt as of {timezone.localtime(refresh.as_of).isoformat()}: "
                                  f"{refresh.rows} rows in {refresh.seconds:.2f} s.")
            if not scope and not period:
                return
        if not scope or not period:
            raise CommandError("Give --scope (city, department NAME or township NAME) and --period (such as 2021-Q3).")
        if len(scope) > 2:
            raise CommandError(f"--scope takes a kind and at most one name; got {' '.join(scope)!r}. "
                               "Quote a name that contains spaces.")
        render_pdf = None
        if options["format"] == "pdf":
            render_pdf = _pdf_renderer()
            if render_pdf is None:
                raise CommandError(PDF_NOT_AVAILABLE)
            if not options.get("output"):
                raise CommandError("PDF output needs --output FILE.")
        now = _parse_now(options["now"]) if options.get("now") else None
        source = LIVE if options.get("live") else ROLLUP if options.get("rollup") else AUTO
        try:
            card = report_card(resolve_scope(scope[0], scope[1] if len(scope) > 1 else None), parse_period(period),
                               now=now, source=source)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
        if render_pdf is not None:
            with open(options["output"], "wb") as handle:
                handle.write(render_pdf(card))
            self.stderr.write(f"Wrote {options['output']}.")
            return
        text = json.dumps(card.as_dict(), ensure_ascii=False, indent=2)
        if options.get("output"):
            with open(options["output"], "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        else:
            self.stdout.write(text)
