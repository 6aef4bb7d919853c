"""Public pages (no login): the progress lookup and the online message form, both rate-limited per address."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.core import get_usage

from .forms import LookupForm, MessageForm
from .selectors import normalize_tracking_number, progress_lookup

SESSION_KEY = "citizens_tracking_number"


def _rate(name: str, default: str) -> str:
    return getattr(settings, name, default)


def _over_limit(request, *, group: str, key, rate: str, increment: bool) -> bool:
    """True when this address (or number) has used up its rate; counts this request when `increment`."""
    usage = get_usage(request, group=group, key=key, rate=rate, increment=increment)
    if usage is None:  # RATELIMIT_ENABLE = False
        return False
    return usage["should_limit"] if increment else usage["count"] >= usage["limit"]


def _lookup_number_key(group, request) -> str:
    # Counted per submitted number, known or not, so guessing one case's four digits from
    # many addresses is slowed too, and the limit itself reveals nothing about the number.
    return normalize_tracking_number(request.POST.get("tracking_number", ""))[:40]


def _rate_limited(request):
    return render(request, "citizens/rate_limited.html", status=429)


@login_not_required
def index(request):
    return render(request, "citizens/index.html")


# No CSRF token: the lookup changes nothing, and a per-request token would make the
# "no match" page differ between an unknown number and a wrong phone.
@csrf_exempt
@never_cache
@login_not_required
@require_http_methods(["GET", "POST"])
def lookup(request):
    if request.method == "GET":
        return render(request, "citizens/lookup.html", {"form": LookupForm()})
    by_address = _over_limit(
        request, group="citizens:lookup", key="ip", rate=_rate("CITIZEN_LOOKUP_RATE", "10/m"), increment=True
    )
    by_number = _over_limit(
        request, group="citizens:lookup-number", key=_lookup_number_key,
        rate=_rate("CITIZEN_LOOKUP_NUMBER_RATE", "20/h"), increment=True,
    )
    if by_address or by_number:
        return _rate_limited(request)
    form = LookupForm(request.POST)
    if not form.is_valid():
        return render(request, "citizens/lookup.html", {"form": form})
    found = progress_lookup(
        tracking_number=form.cleaned_data["tracking_number"], phone_digits=form.cleaned_data["phone_last_four"]
    )
    if found is None:
        # One answer for every failure, with nothing of the request echoed back.
        return render(request, "citizens/lookup.html", {"form": LookupForm(), "not_found": True})
    return render(request, "citizens/progress.html", {"progress": found})


@never_cache
@login_not_required
@require_http_methods(["GET", "POST"])
def message(request):
    form = MessageForm(request.POST or None)
    if request.method == "POST":
        rate = _rate("CITIZEN_MESSAGE_RATE", "5/h")
        if _over_limit(request, group="citizens:message", key="ip", rate=rate, increment=False):
            return _rate_limited(request)
        if form.is_valid() and (suggestion := form.save()) is not None:
            _over_limit(request, group="citizens:message", key="ip", rate=rate, increment=True)
            request.session[SESSION_KEY] = {"number": suggestion.tracking_number, "lookup": bool(suggestion.phone)}
            return redirect("citizens:message_sent")
        return render(request, "citizens/message.html", {"form": form}, status=400 if form.caught_by_honeypot else 200)
    return render(request, "citizens/message.html", {"form": form})


@never_cache
@login_not_required
@require_GET
def message_sent(request):
    sent = request.session.get(SESSION_KEY)
    if not sent:
        return redirect("citizens:message")
    return render(
        request, "citizens/message_sent.html", {"tracking_number": sent["number"], "can_look_up": sent["lookup"]}
    )
