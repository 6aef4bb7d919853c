"""In the browser: a registrar logs in, registers a suggestion through the form, reads its tracking number, finds it in the list."""

import re

import pytest

from feedback.models import Suggestion
from tasks.models import State

from ..factories import PASSWORD, TownshipFactory, VillageFactory

pytestmark = pytest.mark.browser


def test_registrar_registers_a_suggestion_and_finds_it_in_their_list(page, cast, screenshot):
    liuzao = TownshipFactory(name="留早镇", short_name="留早")
    nancheng = TownshipFactory(name="南城区街道", short_name="南城区", kind="street")
    east = VillageFactory(township=liuzao, name="东街村")
    north = VillageFactory(township=nancheng, name="北关社区")

    page.goto(page.base_url + "/")
    page.fill("#id_username", "registrar")
    page.fill("#id_password", PASSWORD)
    page.click("#login-button")
    page.wait_for_url(page.base_url + "/")

    page.click('#main-nav [data-nav="register"]')
    page.wait_for_url(re.compile(r".*/feedback/register/$"))
    page.select_option("#id_channel", "visit")
    page.fill("#id_citizen_name", "张三")
    page.fill("#id_phone", "138 1234 5678")
    page.select_option("#id_township", str(liuzao.pk))
    # The village list narrows to the chosen township's villages.
    assert page.locator(f'#id_village option[value="{north.pk}"]').is_hidden()
    assert page.locator(f'#id_village option[value="{north.pk}"]').is_disabled()
    page.select_option("#id_village", str(east.pk))
    page.fill("#id_content", "东街路灯不亮，夜间出行不便，希望尽快修复。")
    page.select_option("#id_category", "complaint")
    screenshot(page, "register-form")
    page.click("#register-submit")

    page.wait_for_url(re.compile(r".*/feedback/\d+/$"))
    suggestion = Suggestion.objects.get()
    assert page.locator("#tracking-number").inner_text() == suggestion.tracking_number
    assert suggestion.tracking_number in page.locator("#messages").inner_text()
    assert page.locator("#citizen-phone [data-phone-for]").inner_text() == "138****5678"
    page.click("#citizen-phone form.phone-reveal button")  # the registrar typed it in, so may show it
    page.wait_for_selector('#citizen-phone [data-phone-for][data-shown="true"]')
    assert page.locator("#citizen-phone").inner_text() == "13812345678"
    assert page.locator("#suggestion-village").inner_text() == "东街村"
    assert suggestion.task.state == State.REGISTERED
    screenshot(page, "register-done")

    page.click('#main-nav [data-nav="suggestions"]')
    page.wait_for_url(re.compile(r".*/feedback/$"))
    row = page.locator(f'tr[data-suggestion-id="{suggestion.pk}"]')
    assert row.is_visible()
    assert suggestion.tracking_number in row.inner_text()
    assert "138****5678" in row.inner_text() and "张三" in row.inner_text()  # phones are masked on the list
    screenshot(page, "suggestion-list")

    row.locator("a").first.click()
    page.wait_for_url(re.compile(rf".*/feedback/{suggestion.pk}/$"))
    assert page.locator("#task-link").is_visible()
