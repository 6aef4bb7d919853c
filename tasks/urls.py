"""The workspace's task pages; each view module owns its own routes."""

from .views import assists, detail, dispatch, lists, notifications, projects

app_name = "tasks"

urlpatterns = (
    lists.urlpatterns
    + assists.urlpatterns
    + detail.urlpatterns
    + dispatch.urlpatterns
    + notifications.urlpatterns
    + projects.urlpatterns
)
