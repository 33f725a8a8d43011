"""The official LearnWorlds OpenAPI v2 description as the contract (DESIGN §7).

`Contract.load()` reads `../shared/learnworlds-openapi-v2.yaml` (relative to the repo root; never
copied into the project). `contract.problems(request)` holds one `LoggedRequest` against it and
returns what is off, in words (empty: the request conforms):

- the path matches one of the spec's path templates (a literal segment beats a `{param}`; the
  path is matched as sent, percent-encoded, so an id stays inside its segment);
- the method is declared for that path;
- every query parameter is declared for the operation (`cf_<name>` matches the spec's
  `cf_$field_name`), and its value fits the declared schema (type, enum);
- a JSON body is sent only where the operation takes one, and validates against the
  operation's request schema (JSON Schema 2020-12, `$ref`s resolved within the spec);
- `Lw-Client` and a `Bearer` authorization, which the spec requires on every request.

Only what the product sends is held: `is_product_request` picks requests with the product's
`User-Agent` under `/v2/`. The token endpoint is not in the spec (see `learnworlds-api.md` §1).
`response_problems` holds a sandbox reply against the operation's declared response schema.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from learnworlds_mcp.sandbox import LoggedRequest

REPO_ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = REPO_ROOT.parent / "shared" / "learnworlds-openapi-v2.yaml"
SPEC_URI = "urn:learnworlds-openapi-v2"
METHODS = ("get", "put", "post", "delete", "patch")
PRODUCT_AGENT = "learnworlds-mcp/"

NEWER_SPEC_VALUES: dict[tuple[str, str], frozenset[str]] = {
    ("/v2/users", "role"): frozenset({"license_reporter"}),
    ("/v2/event-logs", "activity"): frozenset({"enrollment"}),
    ("/v2/user-roles", "access_level"): frozenset({"license_reporter"}),
}
"""Enum values the newer official spec (2026: learnworlds-api.md §0 S2, §7) adds to this 2025
file, and the only ones excused. The product keeps its results right where a school ignores
them: it holds the records it gets to the value (`role.level`, an event's `activity`)."""


def spec_missing_reason() -> str | None:
    """Why the contract cannot be checked here, or None when the spec file is present."""
    if SPEC_PATH.is_file():
        return None
    return (
        f"the official OpenAPI description is not at {SPEC_PATH} (it is read from ../shared/ "
        "beside the checkout, never copied into the project)"
    )


def must_check() -> bool:
    """Under CI=true the contract is never skipped: a missing spec is a failure."""
    return os.environ.get("CI", "").lower() == "true"


def is_product_request(request: LoggedRequest) -> bool:
    """A request the product's client sent to the API (not a test's own raw request)."""
    agent = request.headers.get("user-agent", "")
    return agent.startswith(PRODUCT_AGENT) and request.path.startswith("/v2/")


@dataclass(frozen=True)
class Operation:
    template: str
    method: str
    spec: dict[str, Any]
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Declared query parameters by name, each with its resolved schema (`x-comma`: true
    where the parameter's description says values may be comma-separated)."""

    @property
    def pointer(self) -> str:
        escaped = self.template.replace("~", "~0").replace("/", "~1")
        return f"/paths/{escaped}/{self.method}"


def _segment_pattern(segment: str) -> str:
    return "[^/]+" if re.fullmatch(r"\{[^}]+\}", segment) else re.escape(segment)


class Contract:
    """The spec's paths, operations and schemas, with cached validators."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.registry: Registry = Registry().with_resource(
            SPEC_URI, Resource.from_contents(document, default_specification=DRAFT202012)
        )
        self.routes: list[tuple[re.Pattern[str], int, str]] = []
        for template in document.get("paths", {}):
            segments = template.strip("/").split("/")
            pattern = re.compile("/" + "/".join(_segment_pattern(s) for s in segments))
            literal = sum(1 for s in segments if not s.startswith("{"))
            self.routes.append((pattern, literal, template))
        # the most literal template wins: /v2/users/segments before /v2/users/{id}
        self.routes.sort(key=lambda r: -r[1])

    @classmethod
    @functools.cache
    def load(cls) -> Contract:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        with SPEC_PATH.open(encoding="utf-8") as handle:
            return cls(yaml.load(handle, Loader=loader))

    # ----- lookup ------------------------------------------------------------------------------

    def resolve(self, node: Any) -> Any:
        """Follow a local `$ref` (`#/components/...`) to what it names."""
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def template_for(self, raw_path: str) -> str | None:
        path = raw_path.split("?", 1)[0]
        for pattern, _, template in self.routes:
            if pattern.fullmatch(path):
                return template
        return None

    def operation(self, template: str, method: str) -> Operation | None:
        item = self.document["paths"][template]
        op = item.get(method.lower())
        if not isinstance(op, dict):
            return None
        query: dict[str, dict[str, Any]] = {}
        for param in [*item.get("parameters", []), *op.get("parameters", [])]:
            param = self.resolve(param)
            if param.get("in") == "query" and "name" in param:  # one spec entry has no name
                schema = dict(self.resolve(param.get("schema") or {}))
                schema["x-comma"] = "comma" in str(param.get("description", "")).lower()
                query[param["name"]] = schema
        return Operation(template, method.lower(), op, query)

    def operations(self) -> list[Operation]:
        found = []
        for template, item in self.document["paths"].items():
            for method in METHODS:
                if method in item:
                    op = self.operation(template, method)
                    assert op is not None
                    found.append(op)
        return found

    @functools.cache  # noqa: B019 (one Contract per run)
    def validator(self, pointer: str, *, replies: bool = False) -> jsonschema.protocols.Validator:
        """A validator for the schema at `pointer` (a JSON pointer into the spec).

        For `replies`, null is accepted wherever a type or enum is declared: the spec's own
        examples answer null for such fields (a user's `fields.bio`, `signup_approval_status`),
        its schemas just never say "nullable". Requests get no such leeway."""
        cls = NullTolerant if replies else jsonschema.Draft202012Validator
        return cls({"$ref": f"{SPEC_URI}#{pointer}"}, registry=self.registry)

    # ----- checks ------------------------------------------------------------------------------

    def problems(self, request: LoggedRequest) -> list[str]:
        """What in `request` the spec does not declare (empty: it conforms)."""
        template = self.template_for(request.raw_path)
        if template is None:
            return [f"path {request.raw_path} matches no path of the spec"]
        op = self.operation(template, request.method)
        if op is None:
            return [f"{request.method} is not declared for {template}"]
        found = self._query_problems(op, request.query_items)
        found += self._body_problems(op, request)
        if not request.headers.get("lw-client"):
            found.append("no Lw-Client header")
        if not request.headers.get("authorization", "").startswith("Bearer "):
            found.append("no Bearer authorization")
        return found

    def _query_problems(self, op: Operation, items: list[tuple[str, str]]) -> list[str]:
        found = []
        for name, value in items:
            declared = op.query.get(name)
            if declared is None and name.startswith("cf_"):
                declared = op.query.get("cf_$field_name")
            if declared is None and name.endswith("[]"):
                declared = op.query.get(name[:-2])
            if declared is None:
                found.append(f"query parameter {name!r} is not declared for {op.template}")
                continue
            newer = NEWER_SPEC_VALUES.get((op.template, name), frozenset())
            if newer:
                declared = {**declared, "enum": [*declared.get("enum", []), *sorted(newer)]}
            problem = _value_problem(declared, value)
            if problem:
                found.append(f"query parameter {name}={value!r}: {problem}")
        return found

    def _body_problems(self, op: Operation, request: LoggedRequest) -> list[str]:
        body = self.resolve(op.spec.get("requestBody")) if "requestBody" in op.spec else None
        content = (body or {}).get("content", {})
        sent = bool(request.body.strip())
        if not sent:
            if body and body.get("required"):
                return [f"{op.method.upper()} {op.template} requires a body; none was sent"]
            return []
        if "application/json" not in content:
            return [f"{op.method.upper()} {op.template} takes no JSON body; one was sent"]
        if request.json is None:
            return ["the body is not JSON"]
        escaped = "application~1json"
        pointer = f"{op.pointer}/requestBody/content/{escaped}/schema"
        if "$ref" in op.spec["requestBody"]:
            ref = op.spec["requestBody"]["$ref"].removeprefix("#")
            pointer = f"{ref}/content/{escaped}/schema"
        errors = sorted(self.validator(pointer).iter_errors(request.json), key=str)
        return [f"body: {_describe(e)}" for e in errors]

    def response_schema_pointer(self, op: Operation, status: int) -> str | None:
        """The pointer of the JSON schema the spec declares for `status`, if it declares one."""
        responses = op.spec.get("responses", {})
        key = str(status) if str(status) in responses else None
        if key is None:
            return None
        reply = responses[key]
        base = f"{op.pointer}/responses/{key}"
        if "$ref" in reply:
            base = reply["$ref"].removeprefix("#")
            reply = self.resolve(reply)
        if "schema" not in reply.get("content", {}).get("application/json", {}):
            return None
        return f"{base}/content/application~1json/schema"

    def response_problems(self, op: Operation, status: int, payload: Any) -> list[str] | None:
        """What in a reply the declared response schema rejects; None: no schema declared."""
        pointer = self.response_schema_pointer(op, status)
        if pointer is None:
            return None
        errors = self.validator(pointer, replies=True).iter_errors(payload)
        return sorted({_describe(e, generic=True) for e in errors})


def _value_problem(schema: dict[str, Any], value: str) -> str | None:
    """Whether a query string value fits a parameter's schema (type and enum)."""
    kind = schema.get("type")
    if schema.get("x-comma") and "," in value:
        parts = [_value_problem({**schema, "x-comma": False}, v) for v in value.split(",")]
        return next((p for p in parts if p), None)
    if kind == "array":
        items = schema.get("items") or {}
        for part in value.split(","):
            problem = _value_problem(items, part)
            if problem:
                return problem
        return None
    if kind == "integer" and not re.fullmatch(r"-?\d+", value):
        return "not an integer"
    if kind == "number" and not re.fullmatch(r"-?\d+(\.\d+)?", value):
        return "not a number"
    if kind == "boolean" and value not in ("true", "false"):
        return "not true/false"
    enum = schema.get("enum")
    if enum is not None and value not in [str(e) for e in enum]:
        return f"not one of {enum}"
    return None


def _describe(error: jsonschema.ValidationError, *, generic: bool = False) -> str:
    """Where and what; `generic` writes list indices as `*` (one line per kind of problem)."""
    parts = ["*" if generic and isinstance(p, int) else str(p) for p in error.absolute_path]
    message = error.message[:200]
    if generic:
        message = re.sub(r"^.* is not", "value is not", message)
    return f"{'/'.join(parts) or '(top)'}: {message}"


def _null_or(check: Any) -> Any:
    def validate(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        if instance is None:
            return iter(())
        return check(validator, value, instance, schema)

    return validate


_BASE = jsonschema.Draft202012Validator
NullTolerant = jsonschema.validators.extend(
    _BASE,
    {
        "type": _null_or(_BASE.VALIDATORS["type"]),
        "enum": _null_or(_BASE.VALIDATORS["enum"]),
    },
)
