"""GeoReport v2's XML: the spec's root and item elements per document, booleans as true/false."""

import datetime as dt
import re

from django.utils.encoding import force_str
from rest_framework.renderers import JSONRenderer
from rest_framework_xml.renderers import XMLRenderer

# The element of each item of a nested list, by the list's own element.
NESTED_ITEMS = {"attributes": "attribute", "values": "value"}
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class Open311JSONRenderer(JSONRenderer):
    charset = "utf-8"


class Open311XMLRenderer(XMLRenderer):
    """<services><service>…, <service_requests><request>…, <service_definition>…, <errors><error>…"""

    media_type = "text/xml"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        context = renderer_context or {}
        response, view = context.get("response"), context.get("view")
        if response is not None and response.status_code >= 400:
            root, item = "errors", "error"
        else:
            root = getattr(view, "xml_root", "root")
            item = getattr(view, "xml_item", "item")
        # DRF makes a renderer per request, so setting the tags on it is safe.
        self.root_tag_name, self.item_tag_name = root, item
        return super().render(data, accepted_media_type, renderer_context)

    def _to_xml(self, xml, data, item_tag=None):
        if isinstance(data, (list, tuple)):
            tag = item_tag or self.item_tag_name
            for element in data:
                xml.startElement(tag, {})
                self._to_xml(xml, element)
                xml.endElement(tag)
        elif isinstance(data, dict):
            for key, value in data.items():
                xml.startElement(key, {})
                self._to_xml(xml, value, item_tag=NESTED_ITEMS.get(key))
                xml.endElement(key)
        elif data is None:
            pass
        elif isinstance(data, bool):
            xml.characters("true" if data else "false")
        elif isinstance(data, dt.datetime):
            xml.characters(data.isoformat())
        else:
            xml.characters(_NOT_IN_XML.sub("\ufffd", force_str(data)))
