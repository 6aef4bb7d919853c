"""Chinese search on PostgreSQL: a bigram tsvector function and a GIN index on suggestion content.

Hand-written (the models cannot express an index on a function the database defines).
Most Chinese searches are two characters (路灯, 暖气, 讨薪), which trigram indexes cannot
serve. `dz_bigrams(text)` turns a text into the set of its overlapping two-character
pieces as a tsvector, built with array_to_tsvector so no text-search parser or dictionary
splits or rewrites Chinese; a term of n >= 2 characters becomes its n-1 bigrams ANDed
(tasks/search.py), found through the GIN index and re-checked with LIKE for exactness.

SQLite (the embedded demo) gets nothing: tasks/search.py falls back to LIKE there, and
when the function is missing on PostgreSQL (tests run with --nomigrations).
"""

from django.db import migrations

# tasks/search.py builds queries against exactly these names; tests apply this SQL too.
FORWARD_SQL = [
    # IMMUTABLE is true (the same text always yields the same bigrams) and required for an
    # index on the function. COST 1000 (the default is 100) tells the planner a call costs
    # about as much as reading a few pages, so it prefers the index to calling it row by row.
    # PL/pgSQL over an expanded array: 27 us for a 36-character
    # content, against 52 us for a SQL function over generate_series (1M rows: 30 s to index).
    # No lower(): the LIKE that re-checks 3+ character terms is case-sensitive as well.
    """
    CREATE OR REPLACE FUNCTION dz_bigrams(content text) RETURNS tsvector
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE COST 1000
    AS $$
    DECLARE
      chars text[] := string_to_array(content, NULL);
      pieces text[] := '{}';
    BEGIN
      FOR i IN 1 .. cardinality(chars) - 1 LOOP
        pieces := pieces || (chars[i] || chars[i + 1]);
      END LOOP;
      RETURN array_to_tsvector(pieces);
    END
    $$
    """,
    # The search box of the task list (tasks.search): which suggestions hold a bigram.
    "CREATE INDEX IF NOT EXISTS suggestion_content_bigram_idx ON feedback_suggestion USING gin (dz_bigrams(content))",
]

REVERSE_SQL = [
    "DROP INDEX IF EXISTS suggestion_content_bigram_idx",
    "DROP FUNCTION IF EXISTS dz_bigrams(text)",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("tasks", "0001_initial"),
        ("feedback", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(_run(FORWARD_SQL), _run(REVERSE_SQL), elidable=False),
    ]
