"""Tests of bot/storage/shared.py on both stores: memory and the real Redis server (when it
answers)."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from bot.settings import Settings
from bot.storage.shared import MemoryState, RedisState, SharedState, shared_state

REDIS_URL = os.environ.get("VECU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest) -> Iterator[SharedState]:
    if request.param == "memory":
        yield MemoryState()
        return
    if not _redis_answers():
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"vecu-test:{uuid.uuid4().hex}:"
    found = RedisState(REDIS_URL, prefix=prefix)
    yield found
    for key in found.client.scan_iter(prefix + "*"):
        found.client.delete(key)


def test_first_is_true_once_per_ttl(store: SharedState) -> None:
    assert store.first("update:1", 60)
    assert not store.first("update:1", 60)
    assert store.first("update:2", 60)


def test_a_first_key_expires(store: SharedState) -> None:
    assert store.first("short", 0.05)
    asyncio.run(asyncio.sleep(0.1))
    assert store.first("short", 0.05)


def test_events_slide_with_the_callers_clock(store: SharedState) -> None:
    for at in (100.0, 110.0, 120.0):
        store.add_event("fails", at, 30)
    assert store.events("fails", 120.0, 30) == [100.0, 110.0, 120.0]
    assert store.events("fails", 135.0, 30) == [110.0, 120.0]  # 100 is out of the window
    assert store.events("fails", 200.0, 30) == []
    store.add_event("fails", 120.0, 30)  # two events at the same time both count
    assert len(store.events("fails", 120.0, 30)) == 4
    store.forget("fails")
    assert store.events("fails", 120.0, 30) == []


def test_values_expire_and_are_per_key(store: SharedState) -> None:
    store.put("payload:a", '/rate{"rating": 4}', 60)
    assert store.get("payload:a") == '/rate{"rating": 4}'
    assert store.get("payload:b") is None
    store.put("payload:c", "x", 0.05)
    asyncio.run(asyncio.sleep(0.1))
    assert store.get("payload:c") is None


async def test_lock_serialises_holders_in_order(store: SharedState) -> None:
    order: list[str] = []

    async def hold(name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        async with store.lock("chat:42", ttl_s=5):
            order.append(f"{name}+")
            await asyncio.sleep(0.05)
            order.append(f"{name}-")

    await asyncio.gather(hold("a", 0), hold("b", 0.01), hold("c", 0.02))
    assert order == ["a+", "a-", "b+", "b-", "c+", "c-"]
    async with store.lock("chat:42"):  # released: free again
        pass


@pytest.mark.redis
async def test_two_replicas_share_the_redis_lock_and_a_dead_holder_expires() -> None:
    if not _redis_answers():
        pytest.skip(f"no Redis at {REDIS_URL}")
    prefix = f"vecu-test:{uuid.uuid4().hex}:"
    one, two = RedisState(REDIS_URL, prefix=prefix), RedisState(REDIS_URL, prefix=prefix)
    inside: list[str] = []

    async def hold(store: RedisState, name: str) -> None:
        async with store.lock("chat:7", ttl_s=5):
            inside.append(name)
            assert len(inside) == 1, "two replicas held the lock at once"
            await asyncio.sleep(0.05)
            inside.remove(name)

    await asyncio.gather(*(hold(s, n) for s, n in ((one, "one"), (two, "two"), (one, "1b"))))
    # a replica killed while holding the lock: its lock expires after ttl_s
    names = [prefix + "lock:chat:9:queue", prefix + "lock:chat:9:seen"]
    assert one._acquire(names, "dead-holder", 0.2)
    started = asyncio.get_running_loop().time()
    async with two.lock("chat:9", ttl_s=0.2):
        waited = asyncio.get_running_loop().time() - started
    assert 0.1 <= waited < 2
    for key in one.client.scan_iter(prefix + "*"):
        one.client.delete(key)


async def test_redis_down_answers_permissively_and_loses_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = RedisState("redis://127.0.0.1:1/0", timeout_s=0.2)  # nothing listens there
    assert store.first("update:1", 60) and store.first("update:1", 60)
    store.add_event("fails", 1.0, 60)
    assert store.events("fails", 1.0, 60) == []
    store.put("k", "v", 60)
    assert store.get("k") is None
    store.forget("k")
    async with store.lock("chat:1"):
        pass
    assert "Redis unavailable" in caplog.text


def test_memory_state_is_bounded() -> None:
    clock = Clock()
    store = MemoryState(clock=clock, max_keys=3)
    for n in range(5):
        store.first(f"k{n}", 60)
    assert store.first("k0", 60)  # the oldest keys were forgotten
    assert not store.first("k4", 60)
    clock.now += 61
    assert store.first("k4", 60)  # expired


def test_shared_state_follows_the_settings() -> None:
    memory: Any = Settings(_env_file=None, VECU_ENV="test")  # type: ignore[call-arg]
    assert isinstance(shared_state(memory), MemoryState)
    assert shared_state(memory) is not shared_state(memory)  # one per owner
    redis: Any = Settings(_env_file=None, VECU_ENV="test", VECU_REDIS_URL=REDIS_URL)  # type: ignore[call-arg]
    assert isinstance(shared_state(redis), RedisState)
    assert shared_state(redis) is shared_state(redis)  # one client per process
