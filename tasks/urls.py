"""The workspace's task pages; each view module owns its own routes."""

from .views import detail, dispatch, exclusions, lists, notifications, projects

app_name = "tasks"

urlpatterns = (
    lists.urlpatterns
    + exclusions.urlpatterns
    + detail.urlpatterns
    + dispatch.urlpatterns
    + notifications.urlpatterns
    + projects.urlpatterns
)
