"""The workspace's task pages; each view module owns its own routes."""

from .views import assists, detail, dispatch, exclusions, lists, notifications, projects, replies

app_name = "tasks"

urlpatterns = (
    lists.urlpatterns
    + assists.urlpatterns
    + exclusions.urlpatterns
    + detail.urlpatterns
    + dispatch.urlpatterns
    + notifications.urlpatterns
    + projects.urlpatterns
    + replies.urlpatterns
)
