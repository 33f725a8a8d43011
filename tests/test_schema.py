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
