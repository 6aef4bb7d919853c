"""python manage.py load_demo: the Dingzhou demo (organisation, accounts, projects, a generated 2021)."""

from django.core.management.base import BaseCommand, CommandError

from tasks import demo
from tasks.models import State


class Command(BaseCommand):
    help = (
        "Load the demo: Dingzhou's townships, villages and departments, the demo accounts (password "
        f"{demo.DEMO_PASSWORD}), the 2021 projects and TV episodes, and a generated year of suggestions and "
        "tasks. Safe to run again: a second run changes nothing. On PostgreSQL the first run locks the "
        "task, suggestion, user and organisation tables until it commits (about a minute): run it before serving."
    )

    def add_arguments(self, parser):
        parser.add_argument("--suggestions", type=int, default=demo.DEFAULT_SUGGESTIONS,
                            help="How many suggestions the generated year holds (default %(default)s).")
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED,
                            help="Seed of the generator: the same seed gives the same data (default %(default)s).")

    def handle(self, *args, suggestions, seed, verbosity, **options):
        if suggestions < 200:
            raise CommandError(f"--suggestions {suggestions} is too small: use at least 200 so every state appears.")
        log = self.stdout.write if verbosity >= 2 else (lambda message: None)
        result = demo.load_demo(seed=seed, suggestions=suggestions, log=log)
        if verbosity < 1:
            return
        out = self.stdout.write
        out("Rows per table:")
        for label, count in demo.table_counts().items():
            out(f"  {label:<22} {count:>9,}")
        out("Tasks per state:")
        states = demo.state_counts()
        for state in State:
            out(f"  {state.value:<22} {states.get(state.value, 0):>9,}")
        if result["created_year"]:
            out(f"Generated 2021 with seed {seed}: {result['suggestions']:,} suggestions, "
                f"{result['events']:,} timeline entries.")
            if result["unfinished"]:
                out(f"  {result['unfinished']} tasks could not reach their planned state before the year's end.")
        else:
            out("The generated 2021 was already there: nothing new.")
        out(self.style.SUCCESS(f"Demo ready in {result['seconds']:.1f}s. Log in as leader, supervisor, registrar, "
                               f"head-zhujian, handler-zhujian, handler-chengguan or admin "
                               f"(password {demo.DEMO_PASSWORD})."))
