"""The school's shared state, chosen once: in this process (the default) or in Redis.

`SharedState` bundles one object per kind of state — the rate budget, the authorization
server's records, the cohort report's tallies, the completion titles, when members were last
seen — behind their interfaces. `shared_state(settings)`
picks the implementations: in this process without `LEARNWORLDS_REDIS_URL`, in Redis with it
(one namespace per school, so several schools can share a Redis). Nothing connects here: Redis
is reached on first use, never at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass

from learnworlds_mcp.clock import Clock, SystemClock
from learnworlds_mcp.config import Settings
from learnworlds_mcp.state.budget import InProcessBudget, RateBudget
from learnworlds_mcp.state.oauth import MemoryOAuthStore, OAuthStore
from learnworlds_mcp.state.seen import InProcessLastSeen, LastSeen
from learnworlds_mcp.state.tallies import InProcessTallies, TallyStore
from learnworlds_mcp.state.titles import InProcessTitles, TitleStore


@dataclass
class SharedState:
    """One school's shared state, and the Redis behind it (None: in this process)."""

    budget: RateBudget
    oauth: OAuthStore
    tallies: TallyStore
    titles: TitleStore
    seen: LastSeen
    redis: object | None = None  # a state.redis.RedisState, typed loosely to keep imports lazy

    @property
    def where(self) -> str:
        """Where the state lives, for people: "this process" or the Redis URL without secrets."""
        return "this process" if self.redis is None else str(getattr(self.redis, "where", "Redis"))

    async def healthy(self) -> bool:
        """Whether the shared state can be reached now (always, in this process)."""
        if self.redis is None:
            return True
        from learnworlds_mcp.state.redis import RedisState

        assert isinstance(self.redis, RedisState)
        return await self.redis.healthy()

    async def aclose(self) -> None:
        if self.redis is not None:
            from learnworlds_mcp.state.redis import RedisState

            assert isinstance(self.redis, RedisState)
            await self.redis.aclose()


def in_process_state(settings: Settings, clock: Clock | None = None) -> SharedState:
    """State kept in this process: one replica (stdio, or one HTTP server)."""
    limit = settings.rate_limit
    return SharedState(
        budget=InProcessBudget(limit.requests, limit.seconds, clock or SystemClock()),
        oauth=MemoryOAuthStore(clock),
        tallies=InProcessTallies(clock),
        titles=InProcessTitles(clock),
        seen=InProcessLastSeen(clock),
    )


def shared_state(settings: Settings, clock: Clock | None = None) -> SharedState:
    """The state `settings` ask for: in Redis with `redis_url`, else in this process."""
    if settings.redis_url is None:
        return in_process_state(settings, clock)
    from learnworlds_mcp.state.redis import RedisState, school_namespace
    from learnworlds_mcp.state.redis_budget import RedisBudget
    from learnworlds_mcp.state.redis_oauth import RedisOAuthStore
    from learnworlds_mcp.state.seen import RedisLastSeen
    from learnworlds_mcp.state.tallies import RedisTallies
    from learnworlds_mcp.state.titles import RedisTitles

    redis = RedisState(
        settings.redis_url.get_secret_value(),
        school_namespace(settings.api_url, settings.client_id),
    )
    limit = settings.rate_limit
    return SharedState(
        budget=RedisBudget(redis, limit.requests, limit.seconds, clock),
        oauth=RedisOAuthStore(redis),
        tallies=RedisTallies(redis),
        titles=RedisTitles(redis),
        seen=RedisLastSeen(redis, clock),
        redis=redis,
    )
