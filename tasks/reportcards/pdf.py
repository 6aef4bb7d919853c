"""A report card as an A4 PDF, drawn by WeasyPrint from the card page's own template.

    render_pdf(card)                       # the management command: context built here
    render_pdf(card, context=page_context) # the /pdf/ page: the context it already built

The PDF loads nothing over the network: the stylesheets are read from static/ as files,
the charts are inline SVG, and any other URL is refused. Chinese needs a CJK font on the
machine (Debian fonts-noto-cjk, "Noto Sans CJK SC"); without it WeasyPrint still writes
the file, with missing glyphs.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import types
from importlib import import_module
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, get_urlconf, include, path, reverse, set_urlconf
from django.utils.translation import get_language

from .figures import Card

STYLESHEETS = ("reports/reports.css", "reports/print.css")
TEMPLATE = "reports/card_pdf.html"


def _stylesheet_paths() -> list[str]:
    paths = []
    for name in STYLESHEETS:
        found = finders.find(name) or str(Path(settings.STATIC_ROOT) / name)
        paths.append(found)
    return paths


def local_only_fetcher():
    """WeasyPrint's fetcher allowed data: URLs only, so rendering never reaches the network or the disk."""
    from weasyprint.urls import URLFetcher  # noqa: PLC0415

    return URLFetcher(allowed_protocols={"data"}, timeout=1)


@functools.cache
def _shim_urlconf() -> types.ModuleType:
    """The project's URLs plus the report pages, built once (resolvers are cached per urlconf)."""
    from tasks import report_urls  # noqa: PLC0415

    module = types.ModuleType("tasks.reportcards._pdf_urls")
    module.urlpatterns = [*import_module(settings.ROOT_URLCONF).urlpatterns, path("reports/", include(report_urls))]
    return module


@contextlib.contextmanager
def _report_urls():
    """The report pages' URL names, even where the project's urls.py does not include them yet.

    The command renders outside any request; its links and the card's own URLs need the
    "reports" namespace. Once dingzhou/urls.py includes tasks.report_urls this does nothing.
    """
    try:
        reverse("reports:records")
    except NoReverseMatch:
        previous = get_urlconf()
        set_urlconf(_shim_urlconf())
        try:
            yield
        finally:
            set_urlconf(previous)
    else:
        yield


def render_html(card: Card, *, context: dict | None = None, now=None) -> str:
    """The card's HTML as the PDF sees it (the page's template body, without the site's navigation)."""
    with _report_urls():
        if context is None:
            from tasks.views.reports.cards import card_context  # noqa: PLC0415  (the pages build the card's context)

            context = card_context(card.scope, card.period, now=now, card=card)
        return render_to_string(TEMPLATE, {**context, "pdf": True, "LANGUAGE_CODE": get_language()})


def render_pdf(card: Card, *, context: dict | None = None, base_url: str | None = None, now=None) -> bytes:
    """The report card of `card`'s scope and period as PDF bytes (A4), with its comparisons, charts and lists.

    Links in the PDF point at `base_url` (the page's site), else settings.SITE_URL; with
    neither they stay relative.
    """
    # WeasyPrint logs each rendering step (from its import on) and every CSS property it
    # does not know; the output is right without them, and the command's stderr stays clean.
    for name in ("weasyprint", "weasyprint.progress"):
        logging.getLogger(name).setLevel(logging.ERROR)
    from weasyprint import CSS, HTML  # noqa: PLC0415  (heavy: loaded only when a PDF is asked for)

    html = render_html(card, context=context, now=now)
    base = base_url or (settings.SITE_URL + "/" if settings.SITE_URL else None)
    document = HTML(string=html, base_url=base, url_fetcher=local_only_fetcher())
    return document.write_pdf(stylesheets=[CSS(filename=path) for path in _stylesheet_paths()])


__all__ = ["local_only_fetcher", "render_html", "render_pdf"]
