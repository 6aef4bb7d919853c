from django.urls import path

from . import views

app_name = "citizens"

urlpatterns = [
    path("", views.index, name="index"),
    path("lookup/", views.lookup, name="lookup"),
    path("message/", views.message, name="message"),
    path("message/sent/", views.message_sent, name="message_sent"),
]
