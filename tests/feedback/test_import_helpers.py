"""Files and organisation for the import tests, built in the tests (no fixtures on disk)."""

import csv
import datetime as dt
import io

import pytest
from openpyxl import Workbook

from org.models import Department, Township, Village

HEADERS = ["编号", "来源渠道", "反映时间", "诉求人", "联系电话", "乡镇(街道)", "村(社区)", "诉求内容", "诉求类别",
           "紧急程度", "承办单位", "办理时限"]
ENGLISH = ["external_id", "channel", "received_at", "citizen_name", "phone", "township", "village", "content",
           "category", "urgency", "department", "deadline"]


def good_row(n: int, **overrides) -> dict:
    """One valid row as a dict keyed by the Chinese header."""
    row = {
        "编号": f"RX{n:05d}",
        "来源渠道": "12345热线",
        "反映时间": "2021-10-25 09:30",
        "诉求人": "张三",
        "联系电话": "13812345678",
        "乡镇(街道)": "留早镇",
        "村(社区)": "留早村",
        "诉求内容": f"路灯不亮，晚上出行不便，请尽快修复（第{n}条）",
        "诉求类别": "投诉",
        "紧急程度": "一般",
        "承办单位": "",
        "办理时限": "",
    }
    row.update(overrides)
    return row


def as_lists(rows: list[dict], headers=HEADERS) -> list[list]:
    return [[row.get(h, "") for h in headers] for row in rows]


def csv_bytes(rows: list[list], headers=HEADERS, *, encoding="utf-8", delimiter=",") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")  # as Excel writes it
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def write_csv(path, rows, headers=HEADERS, **kwargs):
    path.write_bytes(csv_bytes(rows, headers, **kwargs))
    return path


def write_xlsx(path, rows, headers=HEADERS, *, sheet="Sheet1", above=(), more_sheets=()):
    workbook = Workbook()
    for name in more_sheets:
        workbook.create_sheet(name)
    ws = workbook.active
    ws.title = sheet
    for line in above:
        ws.append(line)
    ws.append(headers)
    for row in rows:
        ws.append(row)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text that looks like a formula, as Excel keeps a typed '=...
    workbook.save(path)
    return path


@pytest.fixture
def org(db, departments):
    """Two townships with villages, and departments including an inactive one."""
    liuzao = Township.objects.create(name="留早镇", short_name="留早", kind=Township.Kind.TOWN)
    nancheng = Township.objects.create(name="南城区街道", short_name="南城区", kind=Township.Kind.STREET)
    Village.objects.create(township=liuzao, name="留早村")
    Village.objects.create(township=liuzao, name="东留早村")
    Village.objects.create(township=nancheng, name="和平社区", kind=Village.Kind.COMMUNITY)
    Department.objects.create(name="旧水务局", code="oldwater", is_active=False)
    return departments


def recent(days_ago: int = 3) -> str:
    return (dt.date.today() - dt.timedelta(days=days_ago)).isoformat()


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The cast's nine users hash passwords with PBKDF2 (about a second each here); tests need no strength."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def media(settings, tmp_path):
    """Uploaded files and error reports under the test's own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def eager_celery():
    """Jobs run in the calling process when queued (as CELERY_TASK_ALWAYS_EAGER=1 does)."""
    from dingzhou.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous


def upload(path, name=None):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name or path.name, path.read_bytes())
