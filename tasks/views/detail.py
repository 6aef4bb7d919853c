"""detail pages of the officials' workspace."""

urlpatterns: list = []
