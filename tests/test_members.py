"""The members file (MembersFile) and the running server's view of it (MemberDirectory)."""

from __future__ import annotations

import json
import logging
import os
import stat
from pathlib import Path

import pytest

from learnworlds_mcp.config import TOOLSETS
from learnworlds_mcp.remote.members import (
    KEY_PREFIX,
    MemberDirectory,
    MembersError,
    MembersFile,
    generate_key,
    hash_key,
)


class Ticks:
    """A monotonic clock the test moves by hand (the directory re-checks every 0.5 s)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_keys_are_prefixed_random_and_hashed() -> None:
    keys = {generate_key() for _ in range(50)}
    assert len(keys) == 50
    for key in keys:
        assert key.startswith(KEY_PREFIX)
        assert len(key) - len(KEY_PREFIX) >= 43  # 256 bits in URL-safe base64
    key = next(iter(keys))
    assert hash_key(key).startswith("sha256:")
    assert hash_key(key) == hash_key(key)
    assert key not in hash_key(key)


def test_add_writes_a_0600_file_without_the_key(tmp_path: Path) -> None:
    path = tmp_path / "members.json"
    file = MembersFile(path)
    key = file.add("anna", allow_writes=True, toolsets="users,groups")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text()
    assert key not in text
    assert key[len(KEY_PREFIX) :] not in text
    data = json.loads(text)
    entry = data["members"]["anna"]
    assert entry["key_hash"] == hash_key(key)
    assert entry["allow_writes"] is True
    assert entry["allow_destructive"] is False
    assert entry["toolsets"] == ["users", "groups"]
    assert entry["created"].endswith("Z")
    member = file.load()["anna"]
    assert member.toolsets == frozenset({"users", "groups"})
    assert member.tool_kinds == ("read", "write")
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind


def test_tool_kinds_follow_the_gates(tmp_path: Path) -> None:
    file = MembersFile(tmp_path / "m.json")
    file.add("reader")
    file.add("writer", allow_writes=True)
    file.add("admin", allow_writes=True, allow_destructive=True)
    members = file.load()
    assert members["reader"].tool_kinds == ("read",)
    assert members["writer"].tool_kinds == ("read", "write")
    assert members["admin"].tool_kinds == ("read", "write", "destructive")
    assert members["reader"].toolsets == frozenset(TOOLSETS)
    assert json.loads((tmp_path / "m.json").read_text())["members"]["reader"]["toolsets"] == "all"


def test_writes_replace_the_file_atomically_and_reset_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "members.json"
    file = MembersFile(path)
    file.add("anna")
    os.chmod(path, 0o644)
    inode = os.stat(path).st_ino
    file.add("ben")
    assert os.stat(path).st_ino != inode  # a new file renamed into place, not rewritten in place
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert set(file.load()) == {"anna", "ben"}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: f.add("anna"), "already exists"),
        (lambda f: f.add("ANNA"), "already exists"),
        (lambda f: f.add("has space"), "not valid"),
        (lambda f: f.add(""), "not valid"),
        (lambda f: f.add("x" * 65), "not valid"),
        (lambda f: f.add("bob", allow_destructive=True), "needs --allow-writes"),
        (lambda f: f.add("bob", toolsets="users,nope"), "unknown toolset 'nope'"),
        (lambda f: f.remove("nobody"), "no member named 'nobody'"),
        (lambda f: f.rotate("nobody"), "no member named 'nobody'"),
    ],
)
def test_clear_one_line_errors(tmp_path: Path, call, message: str) -> None:
    file = MembersFile(tmp_path / "m.json")
    file.add("anna")
    before = (tmp_path / "m.json").read_text()
    with pytest.raises(MembersError) as caught:
        call(file)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert (tmp_path / "m.json").read_text() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "not a members file"),
        ('{"version": 9, "members": {}}', "version"),
        ('{"members": {"a": {"key_hash": "md5:x"}}}', "no valid key_hash"),
        (
            '{"members": {"a": {"key_hash": "sha256:'
            + "0" * 64
            + '", "allow_destructive": true}}}',
            "without allow_writes",
        ),
        (
            '{"members": {"a": {"key_hash": "sha256:' + "0" * 64 + '", "toolsets": ["zz"]}}}',
            "unknown toolset",
        ),
    ],
)
def test_a_corrupt_file_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "m.json"
    path.write_text(content)
    with pytest.raises(MembersError, match=message):
        MembersFile(path).load()
    with pytest.raises(MembersError, match=message):
        MemberDirectory(path)


def test_a_missing_file_has_no_members(tmp_path: Path) -> None:
    assert MembersFile(tmp_path / "none.json").load() == {}
    directory = MemberDirectory(tmp_path / "none.json")
    assert directory.count() == 0
    assert directory.authenticate(generate_key()) is None


def test_directory_authenticates_and_sees_remove_and_rotate(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    file = MembersFile(path)
    anna_key = file.add("anna", allow_writes=True)
    ben_key = file.add("ben")
    ticks = Ticks()
    directory = MemberDirectory(path, monotonic=ticks)
    anna = directory.authenticate(anna_key)
    assert anna is not None and anna.name == "anna" and anna.allow_writes
    assert directory.authenticate(ben_key).name == "ben"  # type: ignore[union-attr]
    assert directory.authenticate("lwm_wrong") is None
    assert directory.authenticate(anna_key[len(KEY_PREFIX) :]) is None
    assert directory.authenticate(anna_key + "x") is None
    assert directory.count() == 2

    new_key = file.rotate("anna")
    file.remove("ben")
    ticks.now += 0.6  # the next lookup re-checks the file
    assert directory.authenticate(anna_key) is None
    assert directory.authenticate(new_key).name == "anna"  # type: ignore[union-attr]
    assert directory.authenticate(ben_key) is None
    assert directory.get("ben") is None
    assert directory.get("anna").key_hash == hash_key(new_key)  # type: ignore[union-attr]
    assert directory.count() == 1


def test_directory_keeps_the_last_good_members_when_the_file_breaks(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "m.json"
    key = MembersFile(path).add("anna")
    ticks = Ticks()
    directory = MemberDirectory(path, monotonic=ticks)
    path.write_text("{broken")
    for _ in range(3):
        ticks.now += 1
        assert directory.authenticate(key).name == "anna"  # type: ignore[union-attr]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "not valid JSON" in warnings[0].getMessage()
    assert key not in caplog.text
    # Fixed again: read as usual.
    MembersFile(tmp_path / "other.json").add("ben")
    os.replace(tmp_path / "other.json", path)
    ticks.now += 1
    assert directory.authenticate(key) is None
    assert directory.get("ben") is not None


def test_a_removed_file_means_no_members(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    key = MembersFile(path).add("anna")
    ticks = Ticks()
    directory = MemberDirectory(path, monotonic=ticks)
    path.unlink()
    ticks.now += 1
    assert directory.authenticate(key) is None
    assert directory.count() == 0


def test_changes_are_seen_within_two_seconds_of_real_time(tmp_path: Path) -> None:
    """With the real clock: the directory rechecks every 0.5 s, so a change shows within 2 s."""
    import time

    path = tmp_path / "m.json"
    file = MembersFile(path)
    key = file.add("anna")
    directory = MemberDirectory(path)
    assert directory.authenticate(key) is not None
    file.remove("anna")
    deadline = time.monotonic() + 2.0
    while directory.authenticate(key) is not None:
        assert time.monotonic() < deadline, "a removed member still authenticated after 2 s"
        time.sleep(0.05)


def test_directory_warns_when_others_may_write_the_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "m.json"
    MembersFile(path).add("anna")
    MemberDirectory(path)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    os.chmod(path, 0o666)
    MemberDirectory(path)
    assert "chmod 600" in caplog.text
