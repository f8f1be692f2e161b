"""Turn an OpenAPI 3.0 response schema into a strict JSON Schema that also allows null.

The official files omit ``nullable`` where the live API sends null, so every value may be null;
every other rule stays strict, and objects that list their properties admit no others, so the
sandbox cannot invent fields the spec does not name.
"""

from __future__ import annotations

from typing import Any

DROPPED_KEYS = {"nullable", "example", "examples", "description", "title", "deprecated", "x-nullable", "readOnly"}


def resolve(document: dict, node: Any, *, names: bool = False) -> Any:
    """Inline $refs and drop annotations; ``names`` marks a properties map, whose keys are field names."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return resolve(document, target)
        return {
            key: resolve(document, value, names=key == "properties" and not names)
            for key, value in node.items()
            if names or key not in DROPPED_KEYS
        }
    if isinstance(node, list):
        return [resolve(document, item) for item in node]
    return node


def _merge_all_of(schema: dict) -> dict:
    merged: dict = {key: value for key, value in schema.items() if key != "allOf"}
    for part in schema["allOf"]:
        part = _merge_all_of(part) if "allOf" in part else part
        merged.setdefault("type", part.get("type", "object"))
        merged.setdefault("properties", {}).update(part.get("properties", {}))
        merged["required"] = sorted({*merged.get("required", []), *part.get("required", [])})
    if not merged["required"]:
        del merged["required"]
    return merged


def to_json_schema(schema: Any) -> Any:
    if isinstance(schema, list):
        return [to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "allOf" in schema:
        schema = _merge_all_of(schema)
    converted = {
        key: (
            {name: to_json_schema(value) for name, value in schema["properties"].items()}
            if key == "properties"
            else to_json_schema(value)
            if key in ("items", "additionalProperties", "oneOf", "anyOf")
            else value
        )
        for key, value in schema.items()
    }
    if "properties" in converted and "additionalProperties" not in converted:
        converted["additionalProperties"] = False
    if "type" in converted:
        converted["type"] = [converted["type"], "null"]
    if "enum" in converted:
        converted["enum"] = [*converted["enum"], None]
    if "oneOf" in converted or "anyOf" in converted:
        key = "oneOf" if "oneOf" in converted else "anyOf"
        converted[key] = [*converted[key], {"type": "null"}]
    return converted


def response_schema(document: dict, path: str, method: str, status: str = "200") -> dict:
    response = resolve(document, document["paths"][path][method]["responses"][status])
    return to_json_schema(response["content"]["application/json"]["schema"])
