"""The OpenAPI document of the Open311 views alone, with their .{format} paths.

DRF's endpoint enumerator skips paths ending in .{format} (it takes them for format-suffix
duplicates); in GeoReport v2 the suffix is the only form of every path, so it must stay.
"""

from drf_spectacular.generators import EndpointEnumerator, SchemaGenerator
from drf_spectacular.openapi import AutoSchema


class Open311EndpointEnumerator(EndpointEnumerator):
    def should_include_endpoint(self, path, callback):
        from .views import Open311View

        view_class = getattr(callback, "cls", None)
        return isinstance(view_class, type) and issubclass(view_class, Open311View)


class Open311SchemaGenerator(SchemaGenerator):
    endpoint_inspector_cls = Open311EndpointEnumerator


class Open311AutoSchema(AutoSchema):
    """The format is the path's suffix; the ?format= override DRF also accepts is left out of the document."""

    def _get_format_parameters(self):
        return []
