"""A citizen leaves an online message, keeps the tracking number, and after the department's reply
(given through the services, as the handler's pages would) finds it with the progress lookup."""

import pytest

from feedback.models import Suggestion
from tasks import services
from tasks.models import Outcome, State

from ..factories import TownshipFactory

pytestmark = pytest.mark.browser

REPLY = "已安排施工队疏通排水沟，今后每月巡查一次"


def test_citizen_leaves_a_message_and_later_reads_the_reply(page, cast, departments, screenshot):
    township = TownshipFactory(name="留早镇", short_name="留早")

    page.goto(page.base_url + "/public/message/")
    assert page.locator("#current-user").count() == 0  # nobody is logged in
    page.fill("#id_content", "村东头的排水沟堵了，一下雨积水就漫到路上，老人孩子出行不便")
    page.select_option("#id_township", str(township.pk))
    page.select_option("#id_category", "help")
    page.fill("#id_citizen_name", "王五")
    page.fill("#id_phone", "137 0000 1111")
    honeypot = page.locator("#id_website").bounding_box()
    assert honeypot["x"] + honeypot["width"] <= 0  # off-screen: people do not see it, bots fill it
    screenshot(page, "citizen-message-form")
    page.click("#message-button")
    page.wait_for_url("**/public/message/sent/")
    number = page.locator("#tracking-number").inner_text().strip()
    screenshot(page, "citizen-message-sent")

    suggestion = Suggestion.objects.select_related("task").get(tracking_number=number)
    assert (suggestion.channel, suggestion.phone) == ("portal", "13700001111")
    task = suggestion.task
    assert task.state == State.REGISTERED

    # Before any answer: the lookup shows the case as received, and no reply.
    page.click("#link-lookup")
    page.fill("#id_tracking_number", number)
    page.fill("#id_phone_last_four", "1111")
    page.click("#lookup-button")
    assert page.locator("#progress").get_attribute("data-stage") == "received"
    assert page.locator("#progress-reply").count() == 0

    services.task_assign(actor=cast.supervisor, task=task, lead_department=departments.zhujian)
    services.task_accept(actor=cast.head_zhujian, task=task)
    services.task_reply(actor=cast.head_zhujian, task=task, outcome=Outcome.RESOLVED, reply=REPLY)

    # Wrong digits: the one generic answer.
    page.goto(page.base_url + "/public/lookup/")
    page.fill("#id_tracking_number", number.lower())
    page.fill("#id_phone_last_four", "2222")
    page.click("#lookup-button")
    assert page.locator("#lookup-not-found").is_visible()
    assert page.locator("#progress").count() == 0

    page.fill("#id_tracking_number", number.lower())
    page.fill("#id_phone_last_four", "1111")
    page.click("#lookup-button")
    assert page.locator("#progress").get_attribute("data-stage") == "replied"
    assert page.locator("#progress-department").inner_text() == "住建局"
    assert page.locator("#progress-reply").inner_text() == REPLY
    milestones = page.locator("#milestones li")
    assert [milestones.nth(i).get_attribute("data-action") for i in range(milestones.count())] == [
        "register", "assign", "accept", "reply",
    ]
    body = page.locator("body").inner_text()
    assert "王五" not in body and "13700001111" not in body and "排水沟堵了" not in body
    screenshot(page, "citizen-progress-replied")
