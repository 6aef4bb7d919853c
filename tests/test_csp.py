"""The Content-Security-Policy (issue 11 item 2) and the pages it must not break.

The policy allows scripts and styles from this site's files only, so a page must hold no
inline <script>, <style>, style="" attribute or on*= handler. Every page of the access
matrix is opened as every role that may open it, and its HTML is searched for them.
"""

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from .access_matrix_fixtures import build_world
from .test_access_matrix import ACCESS, ROLES, routes


class InlineFinder(HTMLParser):
    """Collects what a strict CSP (no 'unsafe-inline') would block."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name == "style":
                self.found.append(f'<{tag} style="{value}">')
            elif name.startswith("on"):
                self.found.append(f'<{tag} {name}="{value}">')
            elif name == "href" and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f'<{tag} href="{value}">')
        if tag == "style":
            self.found.append("<style> element")
        # A data block (<script type="application/json">, json_script) is not run, so it is allowed.
        if tag == "script" and not attributes.get("src") and attributes.get("type") != "application/json":
            self._in_script = True

    def handle_endtag(self, tag):
        if tag == "script" and self._in_script:
            self._in_script = False
            self.found.append("inline <script>")


def inline_code(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    finder.close()
    return finder.found


def test_the_finder_sees_each_kind_of_inline_code():
    html = (
        '<div style="width: 5%">a</div><button onclick="go()">b</button><style>p{}</style>'
        '<script>alert(1)</script><script src="/static/js/app.js"></script>'
        '<script type="application/json" id="d">{"a": 1}</script><a href="javascript:go()">c</a>'
        '<svg><rect width="5" fill="#000"></rect></svg>'
    )
    assert inline_code(html) == [
        '<div style="width: 5%">', '<button onclick="go()">', "<style> element", "inline <script>",
        '<a href="javascript:go()">',
    ]  # fmt: skip


@pytest.fixture
def world(cast, departments, township, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return build_world(cast, departments, township)


def test_no_page_holds_inline_script_or_style_for_any_role(cast, world):
    found = routes()
    html_pages, offenders = 0, []
    for role in ROLES:
        client = Client()
        if role != "anonymous":
            client.force_login(getattr(cast, role))
        for key, (name, _params) in sorted(found.items()):
            route = ACCESS.get(key)
            if route is None or route.post_only or key == "admin:index":
                continue  # Django's own admin templates are not ours to change
            url = reverse(name, kwargs=route.args(world) if route.args else None)
            url += route.query(world) if route.query else ""
            response = client.get(url)
            if not response.get("Content-Type", "").startswith("text/html") or response.streaming:
                continue
            html_pages += 1
            offenders += [f"{url} as {role}: {item}" for item in inline_code(response.content.decode())]
    assert html_pages > 100  # every role's pages, including the refusals' error pages
    assert not offenders, "\n".join(offenders)


def test_every_response_carries_the_policy(client, cast, world):
    client.force_login(cast.supervisor)
    for url in (reverse("home"), reverse("tasks:detail", args=[world.task.pk]), "/healthz"):
        policy = client.get(url)["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
