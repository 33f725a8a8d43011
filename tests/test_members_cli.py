"""`learnworlds-mcp members …`: what a person types and sees."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from learnworlds_mcp.remote.members import KEY_PREFIX, MemberDirectory, MembersFile
from learnworlds_mcp.remote.members_cli import members_main, members_path


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test in its own working directory: no ./.env of the checkout's reaches it."""
    monkeypatch.chdir(tmp_path)


def run(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = members_main(list(argv), env or {}, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_add_prints_only_the_key_on_stdout(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    code, out, err = run("add", "anna", "--allow-writes", "--members-file", str(path))
    assert code == 0
    assert out.count("\n") == 1
    key = out.strip()
    assert key.startswith(KEY_PREFIX)
    assert key not in err
    assert "anna" in err and "reads and writes" in err
    assert key not in path.read_text()
    assert MemberDirectory(path).authenticate(key).name == "anna"  # type: ignore[union-attr]


def test_members_file_from_the_environment_then_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "env.json"
    code, _, _ = run("add", "anna", env={"LEARNWORLDS_MEMBERS_FILE": str(path)})
    assert code == 0 and "anna" in MembersFile(path).load()
    assert members_path("flag.json", {"LEARNWORLDS_MEMBERS_FILE": "env.json"}) == "flag.json"
    assert members_path(None, {}) == "learnworlds-members.json"
    monkeypatch.chdir(tmp_path)
    code, _, _ = run("add", "ben")
    assert code == 0 and "ben" in MembersFile(tmp_path / "learnworlds-members.json").load()


def test_list_rotate_remove(tmp_path: Path) -> None:
    f = ["--members-file", str(tmp_path / "m.json")]
    code, _, err = run("list", *f)
    assert code == 0 and "No members" in err
    _, first, _ = run("add", "anna", "--allow-writes", "--allow-destructive", *f)
    run("add", "ben", "--toolsets", "users,roles", *f)
    code, out, _ = run("list", *f)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["NAME", "ALLOWED", "TOOLSETS", "CREATED"]
    assert lines[1].startswith("anna") and "destructive" in lines[1] and " all " in lines[1]
    assert lines[2].startswith("ben") and "read-only" in lines[2] and "users,roles" in lines[2]
    assert first.strip() not in out

    code, second, err = run("rotate", "anna", *f)
    assert code == 0 and second.strip().startswith(KEY_PREFIX) and second != first
    directory = MemberDirectory(tmp_path / "m.json")
    assert directory.authenticate(first.strip()) is None
    assert directory.authenticate(second.strip()) is not None

    code, out, err = run("remove", "ben", *f)
    assert code == 0 and out == "" and "Removed ben" in err
    assert set(MembersFile(tmp_path / "m.json").load()) == {"anna"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["remove", "nobody"], "no member named 'nobody'"),
        (["add", "anna"], "already exists"),
        (["add", "x y"], "not valid"),
        (["add", "bob", "--allow-destructive"], "needs --allow-writes"),
        (["add", "bob", "--toolsets", "users,nope"], "unknown toolset 'nope'"),
        (["frobnicate"], "invalid choice"),
        (["add"], "required"),
        (["add", "bob", "--allow-everything"], "unrecognized arguments"),
    ],
)
def test_errors_are_one_line_and_exit_2(tmp_path: Path, argv: list[str], message: str) -> None:
    path = tmp_path / "m.json"
    run("add", "anna", "--members-file", str(path))
    code, out, err = run(*argv, "--members-file", str(path))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and message in err
    assert err.startswith("learnworlds-mcp members: ")


def test_corrupt_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text("{oops")
    code, _, err = run("list", "--members-file", str(path))
    assert code == 2 and "not valid JSON" in err and err.count("\n") == 1


def test_help_and_no_command(tmp_path: Path) -> None:
    code, out, _ = run("--help")
    assert code == 0 and "add" in out and "rotate" in out
    code, _, err = run()
    assert code == 2 and "COMMAND" in err


def test_the_members_file_named_in_dot_env_is_the_one_used(tmp_path: Path) -> None:
    """As the server does: LEARNWORLDS_MEMBERS_FILE in ./.env counts, after the environment."""
    (tmp_path / ".env").write_text("LEARNWORLDS_MEMBERS_FILE=team.json\n")
    code, _, err = run("add", "zed")
    assert code == 0
    assert "zed" in MembersFile(tmp_path / "team.json").load()
    assert not (tmp_path / "learnworlds-members.json").exists()
    assert "team.json (LEARNWORLDS_MEMBERS_FILE in " in err and ".env)" in err
    code, out, err = run("list")
    assert code == 0 and out.splitlines()[1].startswith("zed")
    assert err.startswith("Members in team.json (LEARNWORLDS_MEMBERS_FILE in ")

    # the process environment wins over .env, the flag over both
    code, _, err = run("add", "amy", env={"LEARNWORLDS_MEMBERS_FILE": "env.json"})
    assert code == 0 and "amy" in MembersFile(tmp_path / "env.json").load()
    assert "env.json ($LEARNWORLDS_MEMBERS_FILE)" in err
    code, _, err = run(
        "remove", "zed", "--members-file", "team.json", env={"LEARNWORLDS_MEMBERS_FILE": "x.json"}
    )
    assert code == 0 and "team.json (--members-file)" in err
    assert MembersFile(tmp_path / "team.json").load() == {}


def test_env_file_names_another_dot_env(tmp_path: Path) -> None:
    """`--env-file PATH` replaces ./.env, values taken literally (no $ interpolation)."""
    (tmp_path / ".env").write_text("LEARNWORLDS_MEMBERS_FILE=ignored.json\n")
    other = tmp_path / "prod.env"
    other.write_text("LEARNWORLDS_MEMBERS_FILE='team$HOME.json'\n")
    code, _, err = run("add", "zed", "--env-file", str(other))
    assert code == 0
    assert "zed" in MembersFile(tmp_path / "team$HOME.json").load()
    assert f"(LEARNWORLDS_MEMBERS_FILE in {other})" in err
    assert not (tmp_path / "ignored.json").exists()

    code, out, err = run("list", "--env-file", str(tmp_path / "missing.env"))
    assert code == 2 and out == ""
    assert err.startswith("learnworlds-mcp members: --env-file ") and "no such file" in err
    assert err.count("\n") == 1


def test_without_any_setting_the_default_file_is_named(tmp_path: Path) -> None:
    code, _, err = run("add", "zed")
    assert code == 0 and "zed" in MembersFile(tmp_path / "learnworlds-members.json").load()
    assert "learnworlds-members.json (the default)" in err
