"""lists pages of the officials' workspace."""

urlpatterns: list = []
