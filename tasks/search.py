"""Chinese search of what citizens wrote: a task matches when one of its suggestions contains the term.

Why the suggestion content and not also the task title: the title is the content's first
40 characters (feedback.services.task_title), so the content already holds it; and an OR
across two tables cannot be walked in id order, which made a common term on PostgreSQL
at a million rows take 500 ms instead of 11 ms (bench/README.md).

How a term is found on PostgreSQL (feedback.Suggestion.content_bigrams holds each content's
bigrams as a tsvector, made in Python on every write; feedback migration 0007 indexes it
with GIN, replacing the index on the PL/pgSQL expression `dz_bigrams(content)` of tasks
migration 0002):

- a tracking number (DZ20211025K7QW3M9X) by its unique index;
- a term of 2+ characters that is rare: through the bigram index. Its n-1 overlapping
  bigrams ANDed as a tsquery find every row holding them all; for 3+ characters a LIKE
  re-check keeps only rows with the whole term in one piece. Two characters are exact.
  The few matching task ids are fetched first and handed to the list query as a list.
- a common term, or 1 character: plain LIKE, which the planner serves by walking the
  tasks newest first and stopping after a page (a common term fills a page in a few
  hundred rows; the bigram index would fetch every one of its 100,000 rows first).

Which is which is decided by PostgreSQL's own estimate for the LIKE (an EXPLAIN, ~1 ms):
its statistics know how common a whole term is, where the planner's estimate for ANDed
bigrams or for "bigrams AND LIKE" is far too low and would always choose the index.

Elsewhere (SQLite, the embedded demo) and when the index is missing (tests run with
--nomigrations), every term is a plain LIKE. The match is a substring match; PostgreSQL
compares letters case-sensitively, SQLite's LIKE ignores the case of ASCII letters.
Searches never widen a scope: they only narrow the queryset they are given.
"""

from __future__ import annotations

import re
import time

from django.db import connections
from django.db.models import BooleanField, F, Func, QuerySet

from feedback.models import Suggestion

MAX_WORDS = 3
MAX_WORD_LENGTH = 50
# Enough bigrams to make the index lookup selective; the LIKE re-check does the rest.
MAX_BIGRAMS = 12
# Up to this many estimated matching suggestions, the bigram index is the cheaper way
# (its cost grows with the matches; walking newest first shrinks with them).
BIGRAM_MAX_ESTIMATED_ROWS = 5_000
# A rare term's matching task ids are fetched as a list; more than this means it is not rare.
BIGRAM_MAX_IDS = 10_000
# How long a process trusts its answer to "has the migration created the function?".
CAPABILITY_TTL_SECONDS = 300.0

TRACKING_NUMBER = re.compile(r"DZ\d{8}[2-9A-HJ-NP-Z]{8}", re.IGNORECASE)

_capabilities: dict[tuple, tuple[float, bool]] = {}


def search_words(text: str) -> list[str]:
    """The words of a search box entry: split on spaces, at most MAX_WORDS, each cut to MAX_WORD_LENGTH."""
    words = []
    for word in (text or "").split():
        word = word[:MAX_WORD_LENGTH]
        if word not in words:
            words.append(word)
    return words[:MAX_WORDS]


def bigrams(text: str) -> list[str]:
    """The overlapping two-character pieces of `text`, first occurrences in order (as content_bigrams stores them)."""
    return list(dict.fromkeys(text[i : i + 2] for i in range(len(text) - 1)))


def bigram_tsquery(term: str) -> str:
    """The term's bigrams ANDed, as tsquery text: quotes and backslashes escaped, no parser involved."""

    def quoted(piece: str) -> str:
        return "'" + piece.replace("\\", "\\\\").replace("'", "''") + "'"

    pieces = bigrams(term)
    if len(pieces) > MAX_BIGRAMS:
        # Spread the kept bigrams over the whole term: the ends and the middle each narrow.
        step = (len(pieces) - 1) / (MAX_BIGRAMS - 1)
        pieces = [pieces[round(i * step)] for i in range(MAX_BIGRAMS)]
    return " & ".join(quoted(piece) for piece in pieces)


class BigramMatch(Func):
    """SQL `<bigrams column> @@ '<bigrams>'::tsquery`: what suggestion_bigrams_idx serves."""

    output_field = BooleanField()

    def __init__(self, expression, tsquery: str):
        super().__init__(expression)
        self.tsquery = tsquery

    def as_sql(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.source_expressions[0])
        return f"{column} @@ %s::tsquery", (*params, self.tsquery)


def bigram_index_ready(using: str = "default") -> bool:
    """Whether this database has the bigram index (PostgreSQL after feedback migration 0007); cached for a while."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    key = (using, connection.settings_dict["NAME"])
    now = time.monotonic()
    cached = _capabilities.get(key)
    if cached and now - cached[0] < CAPABILITY_TTL_SECONDS:
        return cached[1]
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('suggestion_bigrams_idx') IS NOT NULL")
        ready = bool(cursor.fetchone()[0])
    _capabilities[key] = (now, ready)
    return ready


def forget_capabilities() -> None:
    """Ask the database again next time (tests that create or drop the index call this)."""
    _capabilities.clear()


def estimated_matches(term: str, using: str = "default") -> float:
    """PostgreSQL's estimate of the suggestions containing `term`, from its column statistics (no rows read)."""
    connection = connections[using]
    pattern = "%" + connection.ops.prep_for_like_query(term) + "%"
    table = connection.ops.quote_name(Suggestion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {table} WHERE content LIKE %s", [pattern])
        plan = cursor.fetchone()[0]
    return float(plan[0]["Plan"]["Plan Rows"])


def suggestion_task_ids(term: str, using: str = "default"):
    """Task ids of the suggestions containing `term` (one word): a list (rare terms) or a subquery (common ones)."""
    suggestions = Suggestion.objects.using(using)
    if TRACKING_NUMBER.fullmatch(term):
        return suggestions.filter(tracking_number=term.upper()).values("task_id")
    if len(term) >= 2 and bigram_index_ready(using) and estimated_matches(term, using) <= BIGRAM_MAX_ESTIMATED_ROWS:
        matching = suggestions.filter(BigramMatch(F("content_bigrams"), bigram_tsquery(term)))
        if len(term) > 2:
            matching = matching.filter(content__contains=term)  # one bigram is exact; more need the re-check
        # Fetched here, not left as a subquery: as a subquery the planner may walk the id
        # index and test the bigrams of every row it passes (4 s for a rare term at 1M rows).
        ids = set(matching.order_by().values_list("task_id", flat=True)[: BIGRAM_MAX_IDS + 1])
        if len(ids) <= BIGRAM_MAX_IDS:
            return sorted(ids)
        # The estimate was far off and the term is common after all: walk instead.
    return suggestions.filter(content__contains=term).values("task_id")


def tasks_matching(tasks: QuerySet, text: str) -> QuerySet:
    """Narrow `tasks` to those with a suggestion containing each word of `text` (in any of its suggestions)."""
    for word in search_words(text):
        tasks = tasks.filter(pk__in=suggestion_task_ids(word, using=tasks.db))
    return tasks
