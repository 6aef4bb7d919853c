"""The project's URLs plus the public pages and the Open311 API, until dingzhou/urls.py includes them."""

from django.urls import include, path

from dingzhou.urls import urlpatterns as project_urlpatterns

included = {str(p.pattern) for p in project_urlpatterns}
urlpatterns = list(project_urlpatterns)
for prefix, module in (("open311/v2/", "open311.urls"), ("public/", "citizens.urls")):
    if prefix not in included:
        urlpatterns.append(path(prefix, include(module)))
