"""The project's URLs plus the report pages, until dingzhou/urls.py includes tasks.report_urls itself."""

from django.urls import include, path

from dingzhou.urls import urlpatterns as project_urlpatterns

_included = any(getattr(pattern, "namespace", None) == "reports" for pattern in project_urlpatterns)

urlpatterns = [*project_urlpatterns]
if not _included:
    urlpatterns.append(path("reports/", include("tasks.report_urls")))
