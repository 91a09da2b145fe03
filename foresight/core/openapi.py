"""OpenAPI post-processing: document the error responses every operation can give."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "description": "An error: `detail` for a single message, or one list of messages per invalid field.",
    "additionalProperties": True,
    "properties": {"detail": {"type": "string"}},
}


def document_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    ref = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            responses.setdefault(
                "400", {"description": "Invalid parameters", "content": {"application/json": {"schema": ref}}}
            )
            responses.setdefault("404", {"description": "Not found", "content": {"application/json": {"schema": ref}}})
            if method in {"post", "put", "patch", "delete"}:
                responses.setdefault(
                    "403", {"description": "Not allowed", "content": {"application/json": {"schema": ref}}}
                )
                responses.setdefault(
                    "409",
                    {
                        "description": "Conflict with the current state",
                        "content": {"application/json": {"schema": ref}},
                    },
                )
    return result
