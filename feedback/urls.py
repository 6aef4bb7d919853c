from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    path("", views.suggestion_list, name="list"),
    path("export.csv", views.suggestion_export_csv, name="export_csv"),
    path("export.xlsx", views.suggestion_export_xlsx, name="export_xlsx"),
    path("register/", views.suggestion_register, name="register"),
    path("<int:pk>/", views.suggestion_detail, name="detail"),
    path("<int:pk>/phone/", views.phone_show, name="phone"),
    path("import/", views.import_start, name="import"),
    path("import/template.xlsx", views.import_template, name="import_template"),
    path("import/<int:pk>/", views.import_detail, name="import_detail"),
    path("import/<int:pk>/status/", views.import_status, name="import_status"),
    path("import/<int:pk>/errors/", views.import_errors, name="import_errors"),
    path("import/<int:pk>/resume/", views.import_resume, name="import_resume"),
]
