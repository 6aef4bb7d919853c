"""The bigram search index on a stored column instead of the PL/pgSQL expression dz_bigrams(content).

tasks migration 0002 indexed `dz_bigrams(content)`: PostgreSQL then ran the PL/pgSQL
function for every suggestion written (about an eighth of a bulk import's database
time, bench/README.md). Suggestion.content_bigrams now holds the same lexemes, made in
Python when the content is written (feedback.models.suggestion.content_bigrams), and the
GIN index is on that column. Existing rows are filled by dz_bigrams itself, which stays
in the database: it is the definition the Python code is tested against, and what SQL
that writes suggestions directly (the bench scripts) uses.

SQLite (the embedded demo) gets the column, always NULL, and no index: tasks/search.py
searches with LIKE there.
"""

from django.db import migrations

import feedback.models.suggestion

# tasks/search.py looks for this index by name; tests apply these statements too.
FORWARD_SQL = [
    # First, or the UPDATE below would run dz_bigrams again for every row's new version.
    "DROP INDEX IF EXISTS suggestion_content_bigram_idx",
    "UPDATE feedback_suggestion SET content_bigrams = dz_bigrams(content) WHERE content_bigrams IS NULL",
    # The search box of the task and suggestion lists (tasks.search): which suggestions hold a bigram.
    "CREATE INDEX IF NOT EXISTS suggestion_bigrams_idx ON feedback_suggestion USING gin (content_bigrams)",
]

REVERSE_SQL = [
    "CREATE INDEX IF NOT EXISTS suggestion_content_bigram_idx ON feedback_suggestion USING gin (dz_bigrams(content))",
    "DROP INDEX IF EXISTS suggestion_bigrams_idx",
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
        ("feedback", "0006_phone_views_and_retention"),
        ("tasks", "0002_chinese_search"),
    ]

    operations = [
        migrations.AddField(
            model_name="suggestion",
            name="content_bigrams",
            field=feedback.models.suggestion.BigramsField(editable=False, null=True, verbose_name="content bigrams"),
        ),
        migrations.RunPython(_run(FORWARD_SQL), _run(REVERSE_SQL), elidable=False),
    ]
