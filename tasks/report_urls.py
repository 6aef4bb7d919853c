"""The report pages under /reports/ (namespace "reports"): dingzhou/urls.py includes them with
path("reports/", include("tasks.report_urls"))."""

from django.urls import path

from tasks.views.reports import cards, overview, records

app_name = "reports"

urlpatterns = [
    path("", overview.overview, name="overview"),
    path("records/", records.records, name="records"),
    path("city/", cards.city_card, name="city_card"),
    path("city/pdf/", cards.city_card_pdf, name="city_card_pdf"),
    # Without a code: a head's own card, or the list of cards for those who see all.
    path("department/", cards.card_index, name="department_card"),
    path("department/<str:code>/", cards.department_card, name="department_card"),
    path("department/<str:code>/pdf/", cards.department_card_pdf, name="department_card_pdf"),
    path("township/", cards.card_index, name="township_card"),
    path("township/<str:key>/", cards.township_card, name="township_card"),
    path("township/<str:key>/pdf/", cards.township_card_pdf, name="township_card_pdf"),
]
