"""Chinese search (tasks.search): words, bigrams, the LIKE fallback, and on PostgreSQL the bigram index path."""

import importlib

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from feedback.models import Suggestion
from tasks import search
from tasks.models import State, Task
from tasks.selectors import tasks_visible_to

from ..factories import SuggestionFactory, TaskFactory

MIGRATION = importlib.import_module("tasks.migrations.0002_chinese_search")
COLUMN_MIGRATION = importlib.import_module("feedback.migrations.0007_suggestion_content_bigrams")

CONTENTS = [
    "小区路灯不亮，晚上出行不便",
    "家里暖气不热，室温只有十二度",
    "工地拖欠工资，多次讨薪未果",
    "路灯和暖气都坏了，请尽快修复",
    "暖气片漏水，地板泡坏了",
    "充电桩100%坏了_没人管",
    "他说'路灯'坏了\\没人修",
    "WiFi信号差",
    "灯",
]
TERMS = ["路灯", "暖气", "暖气不热", "讨薪", "灯", "气不", "十二度", "灯不亮，晚", "100%", "%", "_", "坏了_", "'路灯'", "\\", "WiFi", "wifi", "不存在的词"]


@pytest.fixture(autouse=True)
def _fresh_capabilities():
    search.forget_capabilities()
    yield
    search.forget_capabilities()


@pytest.fixture
def contents(db):
    """One task per content, returned as {content: task id}."""
    return {content: TaskFactory(suggestion__content=content).pk for content in CONTENTS}


@pytest.fixture
def bigram_sql(require_postgres):
    """tasks 0002's and feedback 0007's SQL applied in the test's transaction (tests run with --nomigrations).

    Rows made before keep the bigrams Python stored: 0007 fills only rows that have none.
    """
    with connection.cursor() as cursor:
        # Rows made earlier in the test leave deferred foreign-key checks, which CREATE INDEX refuses.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in MIGRATION.FORWARD_SQL + COLUMN_MIGRATION.FORWARD_SQL:
            cursor.execute(statement)
    search.forget_capabilities()


def found(text: str) -> set[int]:
    return set(search.tasks_matching(Task.objects.all(), text).values_list("pk", flat=True))


def like(contents: dict, term: str) -> set[int]:
    """The reference answer: the database's own LIKE over every suggestion."""
    return set(Task.objects.filter(suggestions__content__contains=term).values_list("pk", flat=True))


# --- Pure functions ---------------------------------------------------------------------------------


def test_search_words_split_on_spaces_drop_repeats_and_cap_count_and_length():
    assert search.search_words("  路灯  暖气\u3000路灯 ") == ["路灯", "暖气"]
    assert search.search_words("一 二 三 四") == ["一", "二", "三"]
    assert search.search_words("长" * 80) == ["长" * search.MAX_WORD_LENGTH]
    assert search.search_words("") == []


def test_bigrams_overlap_and_keep_first_occurrences():
    assert search.bigrams("暖气不热") == ["暖气", "气不", "不热"]
    assert search.bigrams("哈哈哈") == ["哈哈"]
    assert search.bigrams("灯") == []


def test_bigram_tsquery_quotes_every_piece_and_escapes_quotes_and_backslashes():
    assert search.bigram_tsquery("暖气不热") == "'暖气' & '气不' & '不热'"
    assert search.bigram_tsquery("a'b") == "'a''' & '''b'"
    assert search.bigram_tsquery("a\\b") == "'a\\\\' & '\\\\b'"


def test_long_terms_keep_a_bounded_spread_of_bigrams():
    term = "".join(chr(0x4E00 + i) for i in range(40))
    pieces = search.bigram_tsquery(term).split(" & ")
    assert len(pieces) == search.MAX_BIGRAMS
    assert pieces[0] == f"'{term[:2]}'" and pieces[-1] == f"'{term[-2:]}'"


# --- The plain LIKE path (SQLite, or PostgreSQL without the migration) -------------------------------


@pytest.mark.parametrize("term", ["路灯", "暖气不热", "灯", "讨薪", "十二度", "不存在的词"])
def test_like_path_finds_substrings(contents, term):
    assert found(term) == {pk for content, pk in contents.items() if term in content}


def test_like_path_treats_percent_and_underscore_literally(contents):
    assert found("100%") == {contents["充电桩100%坏了_没人管"]}
    assert found("_") == {contents["充电桩100%坏了_没人管"]}
    assert found("%") == {contents["充电桩100%坏了_没人管"]}


def test_every_word_must_match_but_in_any_of_the_tasks_suggestions(contents):
    assert found("路灯 暖气") == {contents["路灯和暖气都坏了，请尽快修复"]}
    first = Task.objects.get(pk=contents["小区路灯不亮，晚上出行不便"])
    SuggestionFactory(task=first, township=first.township, content="另外暖气也不热")
    assert found("路灯 暖气") == {first.pk, contents["路灯和暖气都坏了，请尽快修复"]}


def test_search_only_narrows_the_scope_it_is_given(cast, departments):
    theirs = TaskFactory(state=State.ACCEPTED, lead_department=departments.zhujian, suggestion__content="路灯不亮")
    ours = TaskFactory(state=State.ACCEPTED, lead_department=departments.chengguan, suggestion__content="路灯不亮")
    visible = tasks_visible_to(cast.handler_chengguan)
    assert set(search.tasks_matching(visible, "路灯").values_list("pk", flat=True)) == {ours.pk}
    assert theirs.pk in found("路灯")


def test_tracking_number_is_looked_up_exactly(contents):
    number = Task.objects.get(pk=contents["灯"]).suggestions.get().tracking_number
    assert found(number) == {contents["灯"]}
    assert found(number.lower()) == {contents["灯"]}


def test_without_the_migration_postgres_uses_like(require_postgres, contents):
    assert not search.bigram_index_ready()
    with CaptureQueriesContext(connection) as queries:
        assert found("路灯") == like(contents, "路灯")
    assert not any(" @@ " in q["sql"] for q in queries)


# --- The bigram index path on PostgreSQL ------------------------------------------------------------


def test_dz_bigrams_makes_the_bigrams_python_makes(bigram_sql):
    for text in ["暖气不热，室温低", "a'b\\c d", "灯", ""]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT tsvector_to_array(dz_bigrams(%s))", [text])
            assert sorted(cursor.fetchone()[0]) == sorted(search.bigrams(text))


TRICKY = ["暖气不热，室温低", "a'b\\c d", "''\\\\'", "灯", "", "x:1 & y|!z*", "制表\t换行\n回车\r末", "空 格\u3000全角", "😀表情😀", "哈哈哈"]


def test_stored_bigrams_are_the_lexemes_dz_bigrams_makes(bigram_sql):
    """content_bigrams (Python, stored) and dz_bigrams (SQL, the migration's backfill) agree, quotes and all."""
    for text in TRICKY:
        suggestion = SuggestionFactory(content=text)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT content_bigrams = dz_bigrams(content), tsvector_to_array(content_bigrams)"
                " FROM feedback_suggestion WHERE id = %s", [suggestion.pk],
            )
            same, lexemes = cursor.fetchone()
        assert same, text
        assert sorted(lexemes) == sorted(search.bigrams(text))


def test_the_migration_fills_the_bigrams_of_rows_stored_before_it(require_postgres, contents):
    Suggestion.objects.update(content_bigrams=None)  # as every row was before feedback 0007
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in MIGRATION.FORWARD_SQL + COLUMN_MIGRATION.FORWARD_SQL:
            cursor.execute(statement)
        cursor.execute("SELECT count(*) FROM feedback_suggestion WHERE content_bigrams IS NULL")
        assert cursor.fetchone()[0] == 0
    search.forget_capabilities()
    assert found("路灯") == like(contents, "路灯")


def test_saving_new_content_renews_the_bigrams(bigram_sql, contents):
    suggestion = Suggestion.objects.get(task_id=contents["灯"])
    suggestion.content = "路灯坏了"
    suggestion.save(update_fields=["content"])
    assert found("灯坏") == {contents["灯"]}
    # Loaded without its bigrams (a deferred field): saving the content still writes them.
    suggestion = Suggestion.objects.defer("content_bigrams", "content_fingerprint").get(pk=suggestion.pk)
    suggestion.content = "暖气漏水"
    suggestion.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT content_bigrams = dz_bigrams(content) FROM feedback_suggestion WHERE id = %s",
                       [suggestion.pk])
        assert cursor.fetchone()[0]


@pytest.mark.parametrize("term", TERMS)
def test_bigram_path_returns_exactly_the_like_results(bigram_sql, contents, monkeypatch, term):
    monkeypatch.setattr(search, "BIGRAM_MAX_ESTIMATED_ROWS", float("inf"))
    assert search.bigram_index_ready()
    with CaptureQueriesContext(connection) as queries:
        result = found(term)
    assert result == like(contents, term)
    if len(term) >= 2:
        assert any(" @@ " in q["sql"] for q in queries), "the bigram index path was not taken"


@pytest.mark.parametrize("term", TERMS)
def test_walking_path_for_common_terms_returns_the_same(bigram_sql, contents, monkeypatch, term):
    monkeypatch.setattr(search, "BIGRAM_MAX_ESTIMATED_ROWS", -1)
    with CaptureQueriesContext(connection) as queries:
        assert found(term) == like(contents, term)
    assert not any(" @@ " in q["sql"] for q in queries)


def test_the_bigram_query_is_served_by_the_gin_index(bigram_sql, contents):
    matching = Suggestion.objects.filter(search.BigramMatch(F("content_bigrams"), search.bigram_tsquery("暖气")))
    sql, params = matching.order_by().values("task_id").query.sql_with_params()
    with connection.cursor() as cursor:
        # A table of nine rows is read whole unless sequential scans are ruled out.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "suggestion_bigrams_idx" in plan


def test_the_planner_estimate_picks_the_path(bigram_sql, contents, monkeypatch):
    monkeypatch.setattr(search, "estimated_matches", lambda term, using="default": 10.0)
    # Rare: the matching ids, fetched through the index.
    assert search.suggestion_task_ids("讨薪") == [contents["工地拖欠工资，多次讨薪未果"]]
    monkeypatch.setattr(search, "estimated_matches", lambda term, using="default": 1e6)
    # Common: a LIKE subquery, which the planner walks newest first.
    walking = search.suggestion_task_ids("讨薪")
    assert "LIKE" in str(walking.query) and " @@ " not in str(walking.query)


def test_a_rare_estimate_that_proves_wrong_falls_back_to_walking(bigram_sql, contents, monkeypatch):
    monkeypatch.setattr(search, "BIGRAM_MAX_ESTIMATED_ROWS", float("inf"))
    monkeypatch.setattr(search, "BIGRAM_MAX_IDS", 1)
    # "暖气" is in three contents, more than the one id a rare term may have here.
    walking = search.suggestion_task_ids("暖气")
    assert "LIKE" in str(walking.query)
    assert found("暖气") == like(contents, "暖气")


def test_estimated_matches_reads_the_planner_estimate(require_postgres, contents):
    assert search.estimated_matches("路灯") >= 1


def test_the_migrations_reverse_cleanly(bigram_sql):
    with connection.cursor() as cursor:
        for statement in COLUMN_MIGRATION.REVERSE_SQL:
            cursor.execute(statement)
        # Back to 0002's index on the expression; the column goes with the field.
        cursor.execute("SELECT to_regclass('suggestion_bigrams_idx'), to_regclass('suggestion_content_bigram_idx')::text")
        assert cursor.fetchone() == (None, "suggestion_content_bigram_idx")
    search.forget_capabilities()
    assert not search.bigram_index_ready()
    with connection.cursor() as cursor:
        for statement in MIGRATION.REVERSE_SQL:
            cursor.execute(statement)
        cursor.execute("SELECT to_regprocedure('dz_bigrams(text)'), to_regclass('suggestion_content_bigram_idx')")
        assert cursor.fetchone() == (None, None)
