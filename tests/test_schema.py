"""Slim schemas keep the contract and lose the noise."""

from typing import Any

from pydantic import BaseModel, Field

from learnworlds_mcp.schema import slim_schema


class Inner(BaseModel):
    """Docstring for code readers."""

    title: str
    note: str | None = Field(default=None, description="kept")


class Outer(BaseModel):
    inner: Inner
    again: list[Inner]
    single: Inner | None = None
    count: int = 3


def test_titles_and_null_noise_go_descriptions_stay() -> None:
    schema: dict[str, Any] = slim_schema(Inner.model_json_schema())
    assert schema == {
        "properties": {
            "title": {"type": "string"},
            "note": {"type": "string", "description": "kept"},
        },
        "required": ["title"],
        "type": "object",
    }


def test_defs_used_more_than_once_stay_and_defaults_can_go() -> None:
    schema = slim_schema(Outer.model_json_schema(), keep_defaults=False)
    assert "Inner" in schema["$defs"]
    assert schema["properties"]["count"] == {"type": "integer"}
    assert "title" in schema["$defs"]["Inner"]["properties"]  # a property named title survives


def test_single_use_defs_are_inlined() -> None:
    class Holder(BaseModel):
        inner: Inner

    schema = slim_schema(Holder.model_json_schema())
    assert "$defs" not in schema
    assert schema["properties"]["inner"]["properties"]["title"] == {"type": "string"}
    assert schema["type"] == "object"


async def test_every_output_schema_is_valid_and_types_every_field_it_lists() -> None:
    from jsonschema import Draft202012Validator
    from mcp import Client
    from pydantic import SecretStr

    from learnworlds_mcp.config import Settings
    from learnworlds_mcp.server import build_server

    settings = Settings(
        api_url="https://school.example.com/admin/api",
        client_id="5f1e9a3c7b2d4e6f80a1b2c3",
        client_secret=SecretStr("not-used"),
        allow_writes=True,
        allow_destructive=True,
    )
    async with Client(build_server(settings)) as client:
        tools = (await client.list_tools()).tools

    def untyped(node: Any, where: str) -> list[str]:
        if not isinstance(node, dict):
            return []
        found = []
        for name, sub in node.get("properties", {}).items():
            if not ({"type", "$ref", "anyOf", "enum"} & set(sub)):
                found.append(f"{where}.{name}")
            found += untyped(sub, f"{where}.{name}")
        for key in ("items", "additionalProperties"):
            found += untyped(node.get(key), where)
        for name, sub in node.get("$defs", {}).items():
            found += untyped(sub, f"$defs.{name}")
        return found

    for tool in tools:
        schema = tool.output_schema
        assert schema is not None and schema["type"] == "object", tool.name
        Draft202012Validator.check_schema(schema)
        assert not untyped(schema, tool.name)
        assert set(schema.get("required", [])) <= set(schema["properties"]), tool.name


def test_an_output_schema_still_rejects_a_result_of_the_wrong_shape() -> None:
    from jsonschema import Draft202012Validator

    from learnworlds_mcp.models.users import UserList

    schema = slim_schema(UserList.model_json_schema(), output=True)
    check = Draft202012Validator(schema)
    good = {
        "items": [{"id": "u1", "email": "a@b.c", "role": {"level": "user"}}],
        "page": 1,
        "total_pages": 1,
        "total_items": 1,
        "next_page": None,
    }
    assert not list(check.iter_errors(good))
    for bad in (
        {**good, "next_page": "2"},  # a top-level field of the wrong type
        {k: v for k, v in good.items() if k != "next_page"},  # the stop signal missing
        {**good, "items": [{"email": "a@b.c"}]},  # a record without its id
        {**good, "items": [{"id": 7, "email": "a@b.c"}]},  # an id of the wrong type
    ):
        assert list(check.iter_errors(bad)), bad
    # Descriptions and defaults are gone; names and types of the envelope stay.
    assert "description" not in str(schema) and "default" not in str(schema)


def test_input_schemas_keep_descriptions_and_drop_a_default_equal_to_the_minimum() -> None:
    class Args(BaseModel):
        page: int = Field(default=1, ge=1)
        size: int = Field(default=20, ge=1, description="How many.")

    schema = slim_schema(Args.model_json_schema())
    assert schema["properties"]["page"] == {"minimum": 1, "type": "integer"}
    assert schema["properties"]["size"]["default"] == 20
    assert schema["properties"]["size"]["description"] == "How many."
