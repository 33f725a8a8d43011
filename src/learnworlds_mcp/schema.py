"""Slim JSON schemas: the same contract in fewer tokens.

Every tool's input and output schema is sent to the model with each `tools/list`. Pydantic's
schemas repeat a generated `title` on every property and spell optional fields as
``anyOf: [X, null]`` with ``default: null``. Results leave nulls out, and arguments treat an
absent optional the same as null, so both read correctly as plain ``X``, not required.
Single-use `$defs` are inlined where they are used, and nested objects of an input schema that
list their `properties` do not repeat `"type": "object"`. Model docstrings are dropped too (field
descriptions stay in input schemas). Validation is unaffected: the server validates arguments
with the pydantic models, and every name, type, enum, bound and `required` list stays.

Output schemas (`output=True`) keep what a client validates a result against, and no prose:
every top-level field with its type, enum and whether it is required, and, for each record
nested in it (list items included), the fields the record always carries (its id, email,
counts), typed. A record's optional fields are left out of the schema — they stay allowed, as
JSON Schema allows unlisted properties, and the result's text shows them — as are descriptions
and defaults. A host puts the name, description and input schema in front of the model and the
model reads the result itself, so the output schema serves the client's check and code that
uses the result: the envelope and each record's identity, at about half the bytes.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

_NULL = {"type": "null"}


class PlainDefaults(GenerateJsonSchema):
    """Pydantic's JSON schema generator, without its costly path for plain JSON defaults.

    Pydantic encodes every default through a fresh `TypeAdapter`; for `None`, booleans,
    numbers and strings that is the value itself. This is most of the cost of a result model's
    schema, so start-up builds the output schemas with this generator."""

    def encode_default(self, dft: Any) -> Any:
        if dft is None or type(dft) in (bool, int, float, str):
            return dft
        return super().encode_default(dft)


def slim_schema(
    schema: dict[str, Any], *, keep_defaults: bool = True, output: bool = False
) -> dict[str, Any]:
    """Return a copy of `schema`, slimmed as the module says, with single-use `$defs` inlined.

    `keep_defaults=False` drops every `default` (results: a default says nothing to a reader);
    `output=True` slims an output schema: no defaults, no descriptions.
    """
    slim: dict[str, Any] = _slim(schema, keep_defaults and not output, not output)
    definitions = slim.pop("$defs", {})
    uses = {name: json.dumps(slim).count(f'"#/$defs/{name}"') for name in definitions}
    uses = {
        n: u + sum(json.dumps(d).count(f'"#/$defs/{n}"') for d in definitions.values())
        for n, u in uses.items()
    }
    inline = {name for name, count in uses.items() if count == 1}
    kept = {name: d for name, d in definitions.items() if name not in inline}

    def expand(node: Any) -> Any:
        if isinstance(node, list):
            return [expand(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref", "")
        name = ref.removeprefix("#/$defs/")
        if ref.startswith("#/$defs/") and name in inline:
            return expand({**definitions[name], **{k: v for k, v in node.items() if k != "$ref"}})
        return {key: expand(value) for key, value in node.items()}

    slim = expand(slim)
    kept = expand(kept)
    if output:
        slim["properties"] = {
            n: _required_only(sub) for n, sub in slim.get("properties", {}).items()
        }
        kept = {name: _required_only(d) for name, d in kept.items()}
    else:  # an output schema keeps "type": "object" on records: a client checks it
        for name, sub in slim.get("properties", {}).items():
            slim["properties"][name] = _untyped_objects(sub)
    if kept:
        slim["$defs"] = kept
    return slim


def _required_only(node: Any) -> Any:
    """A nested record with only the fields it always carries (those in `required`), typed."""
    if isinstance(node, list):
        return [_required_only(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _required_only(v) for k, v in node.items() if k != "properties"}
    if "properties" in node:
        required = set(node.get("required", []))
        fields = {n: _required_only(s) for n, s in node["properties"].items() if n in required}
        out["type"] = "object"
        if fields:
            out["properties"] = fields
    return out


def _untyped_objects(node: Any) -> Any:
    """Drop `"type": "object"` below the root where `properties` already says it."""
    if isinstance(node, list):
        return [_untyped_objects(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {
        k: _untyped_objects(v)
        if k != "properties"
        else {n: _untyped_objects(s) for n, s in v.items()}
        for k, v in node.items()
    }
    if "properties" in out and out.get("type") == "object":
        del out["type"]
    return out


def _slim(schema: Any, keep_defaults: bool, keep_descriptions: bool = True) -> Any:
    if isinstance(schema, list):
        return [_slim(item, keep_defaults, keep_descriptions) for item in schema]
    if not isinstance(schema, dict):
        return schema
    slim: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue  # a generated title, not a property named "title" (those live in properties)
        if key == "description" and ("properties" in schema or not keep_descriptions):
            continue  # a model's docstring (for code readers), or any prose in an output schema
        if key == "additionalProperties" and value is True:
            continue  # the JSON Schema default
        if key in ("properties", "$defs"):
            slim[key] = {
                name: _slim(sub, keep_defaults, keep_descriptions) for name, sub in value.items()
            }
        else:
            slim[key] = _slim(value, keep_defaults, keep_descriptions)
    options = slim.get("anyOf")
    if isinstance(options, list) and _NULL in options and slim.get("default", ...) is None:
        rest = [o for o in options if o != _NULL]
        del slim["anyOf"], slim["default"]
        slim = {**rest[0], **slim} if len(rest) == 1 else {"anyOf": rest, **slim}
    options = slim.get("anyOf")
    if isinstance(options, list) and all(
        set(o) == {"type"} and isinstance(o["type"], str) for o in options
    ):
        del slim["anyOf"]  # anyOf of bare types → one `type` list: the same, shorter
        slim = {"type": [o["type"] for o in options], **slim}
    if (
        not keep_defaults
        or slim.get("default", True) is False
        or ("minimum" in slim and slim.get("default") == slim["minimum"])
    ):
        slim.pop("default", None)  # results: says nothing; `false` or the minimum: assumed
    return slim
