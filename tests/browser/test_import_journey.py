"""In the browser: upload a file, watch the progress bar reach 100%, download the error report."""

import csv
import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from feedback.importers import background
from feedback.models import ImportJob

from ..feedback.test_import_helpers import fast_passwords, media, org, write_csv  # noqa: F401
from ..feedback.test_import_write import hundred_rows

pytestmark = pytest.mark.browser


def test_registrar_watches_the_import_finish_and_downloads_the_error_report(page, org, cast, media, tmp_path,
                                                                              monkeypatch):
    queued = []
    # The test plays the Celery worker, so it can run the job while the page is polling.
    monkeypatch.setattr(background, "_start_later", queued.append)
    client = Client()
    client.force_login(cast.registrar)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": page.base_url}])
    path = write_csv(tmp_path / "走访登记.csv", hundred_rows(), encoding="gbk")

    page.goto(page.base_url + "/feedback/import/")
    page.set_input_files("#id_file", str(path))
    page.click("#import-submit")
    page.wait_for_url(re.compile(r".*/feedback/import/\d+/$"))
    assert page.locator("#import-status").get_attribute("data-status") == "pending"
    assert page.locator("#import-progress").get_attribute("value") == "0"

    (job_id,) = queued
    assert background.import_job_run(job_id=job_id, batch_size=10) == ImportJob.Status.DONE
    # A property check, not wait_for_function: the page's CSP forbids the eval that would need.
    expect(page.locator("#import-progress")).to_have_js_property("value", 100)
    page.wait_for_selector("#error-report-link")  # the page reloads itself when the job ends
    assert page.locator("#import-imported").inner_text() == "93"
    assert page.locator("#import-errors").inner_text() == "7"
    assert page.locator("#import-first-errors tbody tr").count() == 7

    with page.expect_download() as download:
        page.click("#error-report-link")
    rows = list(csv.reader(open(download.value.path(), encoding="utf-8-sig")))
    assert len(rows) == 8
    assert rows[0][-2:] in (["原行号", "错误原因"], ["Source row", "Error reason"])  # before and after the PO merge
    assert [r[-2] for r in rows[1:]] == ["11", "21", "31", "41", "51", "61", "71"]
