"""OpenAPI post-processing for the catalog API: the allowed values of its catalog filters."""

from __future__ import annotations

from typing import Any

from django.db import DatabaseError

from foresight.catalog import selectors

# Query parameters whose allowed values are catalog slugs or codes: listed from the catalog when the schema
# is built, so clients (and schema-driven tests) know an unknown value is a 400, not an empty list.
CATALOG_PARAMETERS = {
    "/api/v1/topics/": {"direction": "directions", "area": "areas", "cluster": "clusters"},
    "/api/v1/areas/": {"direction": "directions"},
    "/api/v1/pilots/": {"direction": "directions"},
}


def catalog_enums(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    try:
        values = {
            "directions": list(selectors.direction_options().values_list("slug", flat=True)),
            "areas": sorted(selectors.area_list().values_list("slug", flat=True)),
            "clusters": sorted(selectors.cluster_list().values_list("code", flat=True)),
        }
    except DatabaseError:  # the schema built without a database (``manage.py spectacular`` on a bare checkout)
        return result
    for path, parameters in CATALOG_PARAMETERS.items():
        operation = result.get("paths", {}).get(path, {}).get("get", {})
        for parameter in operation.get("parameters", []):
            source = parameters.get(parameter.get("name"))
            if source and parameter.get("in") == "query":
                parameter["schema"] = {"type": "string", "enum": values[source]}
    return result
