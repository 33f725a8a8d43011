"""The server's `instructions`, as a client reads them in the `initialize` result: they follow
the gates and name the switch that turns on what is off."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import connected, make_school, settings_for

GATES: dict[str, dict[str, Any]] = {
    "read-only": {},
    "writes": {"allow_writes": True},
    "destructive": {"allow_writes": True, "allow_destructive": True},
}


async def instructions(gate: str) -> str:
    school = make_school(users=20)
    async with connected(school, settings_for(school, **GATES[gate])) as client:
        text = client.instructions
    assert text, "the initialize result carries no instructions"
    return text


@pytest.mark.parametrize("gate", sorted(GATES))
async def test_instructions_name_the_switch_for_what_is_off(gate: str) -> None:
    text = await instructions(gate)
    writes_off = gate == "read-only"
    destructive_off = gate != "destructive"
    assert ("--allow-writes" in text) is writes_off
    assert ("LEARNWORLDS_ALLOW_WRITES" in text) is writes_off
    assert ("--allow-destructive" in text) is destructive_off
    assert ("LEARNWORLDS_ALLOW_DESTRUCTIVE" in text) is destructive_off
    assert ("dry_run" in text) is not writes_off  # only where a change tool exists
    assert "id or email" in text and "next_page" in text


async def test_instructions_differ_for_each_gate_combination() -> None:
    texts = {gate: await instructions(gate) for gate in GATES}
    assert len(set(texts.values())) == len(GATES)
    assert "Read-only" in texts["read-only"]
    assert "destructive changes are on" in texts["destructive"]
