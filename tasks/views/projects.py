"""Practical-task projects and TV accountability pages."""

urlpatterns: list = []
