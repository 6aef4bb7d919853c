"""GeoReport v2 paths; each ends in .json or .xml, as the spec has it. The OpenAPI document is at openapi.yaml/.json."""

from django.urls import path, register_converter
from drf_spectacular.views import SpectacularAPIView

from . import views
from .schema import Open311SchemaGenerator


class FormatConverter:
    regex = "json|xml"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


class SchemaFormatConverter(FormatConverter):
    regex = "json|yaml"


register_converter(FormatConverter, "open311_format")
register_converter(SchemaFormatConverter, "open311_schema_format")

app_name = "open311"

SCHEMA_SETTINGS = {
    "TITLE": "Dingzhou Open311 GeoReport v2",
    "DESCRIPTION": (
        "Service requests (citizens' suggestions) of Dingzhou's 我为群众办实事 campaign, in the Open311 "
        "GeoReport v2 format. Reads are public and never carry a citizen's name, phone or message text; "
        "creating a request needs an api_key issued by the city."
    ),
    "VERSION": "2",
    "SCHEMA_PATH_PREFIX": r"/open311/v2",
    "COMPONENT_SPLIT_REQUEST": True,
    # Errors are lists too ([{code, description}]), as the spec has them.
    "ENABLE_LIST_MECHANICS_ON_NON_2XX": True,
}

urlpatterns = [
    path("services.<open311_format:format>", views.ServiceListView.as_view(), name="services"),
    path("services/<str:service_code>.<open311_format:format>", views.ServiceDefinitionView.as_view(),
         name="service"),
    path("requests.<open311_format:format>", views.RequestListView.as_view(), name="requests"),
    path("requests/<str:service_request_id>.<open311_format:format>", views.RequestDetailView.as_view(),
         name="request"),
    path("tokens/<str:token>.<open311_format:format>", views.TokenView.as_view(), name="token"),
    path(
        "openapi.<open311_schema_format:format>",
        SpectacularAPIView.as_view(custom_settings=SCHEMA_SETTINGS, generator_class=Open311SchemaGenerator),
        name="openapi",
    ),
]
