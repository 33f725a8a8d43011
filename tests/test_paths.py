"""The path builder keeps every id inside its own segment, and refuses what is not an id."""

import pytest

from learnworlds_mcp.errors import InvalidIdError
from learnworlds_mcp.paths import api_path, check_id


@pytest.mark.parametrize(
    ("user_id", "expected"),
    [
        ("5ea173beca205e67b47f4552", "/v2/users/5ea173beca205e67b47f4552"),
        ("jane@acme.com", "/v2/users/jane%40acme.com"),
        ("maria.k+lw@acme.com", "/v2/users/maria.k%2Blw%40acme.com"),
        ("  jane@acme.com ", "/v2/users/jane%40acme.com"),
        ("Ünïcode@acme.com", "/v2/users/%C3%9Cn%C3%AFcode%40acme.com"),
    ],
)
def test_ids_are_encoded_as_one_segment(user_id: str, expected: str) -> None:
    assert api_path("/v2/users/{user_id}", user_id=user_id) == expected


def test_several_ids_each_get_their_segment() -> None:
    path = api_path("/v2/user_groups/{group_id}/users/{user_id}", group_id="g1", user_id="a+b@c.io")
    assert path == "/v2/user_groups/g1/users/a%2Bb%40c.io"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        ".",
        "..",
        "a/b",
        "../admin",
        "x?y=1",
        "x#frag",
        "has space",
        "50%",
        "a\\b",
        "tab\there",
        "new\nline",
        "nul\x00",
        "x" * 321,
    ],
)
def test_what_no_id_contains_is_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(InvalidIdError) as caught:
        api_path("/v2/users/{user_id}", user_id=bad)
    assert "user_id" in str(caught.value)


def test_check_id_names_the_parameter() -> None:
    with pytest.raises(InvalidIdError, match="group_id is empty"):
        check_id("", "group_id")


def test_template_and_ids_must_agree() -> None:
    with pytest.raises(ValueError):
        api_path("/v2/users/{user_id}", group_id="x")
