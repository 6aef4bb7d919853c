"""Login, logout and the home page: global URL names ("login", "logout", "home") as settings expect."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    # Django's LogoutView answers POST only: a link or an image tag cannot log anyone out.
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
]
