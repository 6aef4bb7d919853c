from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from ops.views import healthz

urlpatterns = [
    path("", include("org.urls")),
    path("tasks/", include("tasks.urls")),
    path("feedback/", include("feedback.urls")),
    path("reports/", include("tasks.report_urls")),
    path("public/", include("citizens.urls")),
    path("open311/v2/", include("open311.urls")),
    path("admin/", admin.site.urls),
    # The login page has the language switch, so it must work before logging in
    # (also under django.contrib.auth's LoginRequiredMiddleware).
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    # For load balancers: no login, no HTTPS redirect (settings.SECURE_REDIRECT_EXEMPT).
    path("healthz", healthz, name="healthz"),
]
