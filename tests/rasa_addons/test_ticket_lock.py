"""Tests of rasa_addons/ticket_lock.py (the atomic ticket lock of the scaled Rasa replicas) on
the real Redis server, and of its Rasa wrapper rasa_addons/lock_store.py in the Rasa venv.

Each race Rasa's own ``RedisLockStore`` loses is played here step by step: another replica
changes the lock between this one's read and its write.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rasa_addons import ticket_lock

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("VECU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
pytestmark = pytest.mark.redis


@pytest.fixture
def client() -> Iterator[Any]:
    import redis

    found = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        found.ping()
    except (redis.RedisError, OSError):
        pytest.skip(f"no Redis at {REDIS_URL}")
    yield found
    found.close()


@pytest.fixture
def key(client: Any) -> Iterator[str]:
    name = f"vecu-test:lock:{uuid.uuid4().hex}"
    yield name
    client.delete(name)


class Meddled:
    """A client whose next transaction sees ``meddle`` run between its read and its write
    (another replica changing the lock at the worst moment), once."""

    def __init__(self, client: Any, meddle: Callable[[], object]) -> None:
        self.client, self.meddle, self.reads = client, meddle, 0

    def transaction(self, func: Callable[[Any], Any], *keys: str, **options: Any) -> Any:
        def played(pipe: Any) -> Any:
            read = pipe.get

            def get(name: str) -> Any:
                value = read(name)
                self.reads += 1
                if self.reads == 1:
                    self.meddle()
                return value

            pipe.get = get
            return func(pipe)

        return self.client.transaction(played, *keys, **options)


def numbers(client: Any, key: str) -> list[int]:
    return [number for number, _ in ticket_lock.read(client, key)]


def test_tickets_queue_in_order_in_rasas_format(client: Any, key: str) -> None:
    assert [ticket_lock.issue(client, key, "c1", 20) for _ in range(3)] == [0, 1, 2]
    stored = json.loads(client.get(key))
    assert stored["conversation_id"] == "c1"
    assert [json.loads(t)["number"] for t in stored["tickets"]] == [0, 1, 2]
    assert all(set(json.loads(t)) == {"number", "expires"} for t in stored["tickets"])


def test_finishing_takes_one_ticket_off_and_the_last_one_deletes_the_lock(
    client: Any, key: str
) -> None:
    for _ in range(3):
        ticket_lock.issue(client, key, "c1", 20)
    ticket_lock.finish(client, key, "c1", 1)
    assert numbers(client, key) == [0, 2]
    ticket_lock.finish(client, key, "c1", 7)  # not queued: nothing changes
    assert numbers(client, key) == [0, 2]
    ticket_lock.finish(client, key, "c1", 0)
    ticket_lock.finish(client, key, "c1", 2)
    assert client.get(key) is None


def test_expired_tickets_are_dropped_and_a_missing_lock_is_not_created(
    client: Any, key: str
) -> None:
    ticket_lock.drop_expired(client, key, "c1", clock=lambda: 1000.0)
    assert client.get(key) is None
    ticket_lock.issue(client, key, "c1", 5, clock=lambda: 1000.0)  # expires at 1005
    ticket_lock.issue(client, key, "c1", 50, clock=lambda: 1000.0)  # expires at 1050
    ticket_lock.drop_expired(client, key, "c1", clock=lambda: 1010.0)
    assert numbers(client, key) == [1]
    # issuing drops the expired ones too; numbering restarts when none is left
    assert ticket_lock.issue(client, key, "c1", 5, clock=lambda: 1100.0) == 0


def test_a_ticket_issued_while_another_finishes_is_kept(client: Any, key: str) -> None:
    ticket_lock.issue(client, key, "c1", 20)
    meddled = Meddled(client, lambda: ticket_lock.issue(client, key, "c1", 20))
    ticket_lock.finish(meddled, key, "c1", 0)  # read [0]; ticket 1 issued; then the write
    assert numbers(client, key) == [1]  # Rasa's store: the lock deleted, ticket 1 lost


def test_a_ticket_issued_while_another_drops_expired_ones_is_kept(client: Any, key: str) -> None:
    ticket_lock.issue(client, key, "c1", 5, clock=lambda: 1000.0)
    ticket_lock.issue(client, key, "c1", 500, clock=lambda: 1000.0)
    meddled = Meddled(
        client, lambda: ticket_lock.issue(client, key, "c1", 500, clock=lambda: 1000.0)
    )
    ticket_lock.drop_expired(meddled, key, "c1", clock=lambda: 1010.0)
    assert numbers(client, key) == [1, 2]  # Rasa's store: [1], ticket 2 lost


def test_two_replicas_issuing_at_once_get_two_numbers(client: Any, key: str) -> None:
    ticket_lock.issue(client, key, "c1", 20)
    meddled = Meddled(client, lambda: ticket_lock.issue(client, key, "c1", 20))
    assert ticket_lock.issue(meddled, key, "c1", 20) == 2  # Rasa's store: 1, twice
    assert numbers(client, key) == [0, 1, 2]


def test_many_replicas_queueing_and_finishing_lose_no_ticket(client: Any, key: str) -> None:
    import redis

    lost: list[tuple[int, list[int]]] = []

    def replica() -> None:
        own = redis.Redis.from_url(REDIS_URL)
        for _ in range(40):
            number = ticket_lock.issue(own, key, "c1", 20)
            queued = numbers(own, key)
            if queued.count(number) != 1:
                lost.append((number, queued))
            ticket_lock.drop_expired(own, key, "c1")
            ticket_lock.finish(own, key, "c1", number)
        own.close()

    threads = [threading.Thread(target=replica) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not lost
    assert client.get(key) is None  # every ticket finished, the lock gone


@pytest.mark.rasa
def test_rasa_loads_the_store_and_replicas_take_turns_in_arrival_order(key: str) -> None:
    """Two stores as two replicas, through Rasa's own ``lock()``: six messages arrive 10 ms
    apart, alternately; each is processed alone, in the order it arrived."""
    python = ROOT / ".venv-rasa" / "bin" / "python"
    if not python.exists():
        pytest.skip("no Rasa environment: run `make setup`")
    db = REDIS_URL.rsplit("/", 1)[-1]
    script = textwrap.dedent(f"""
        import asyncio, json
        from rasa.core.lock_store import LockStore
        from rasa.utils.endpoints import EndpointConfig
        from rasa_addons.lock_store import AtomicRedisLockStore

        def store():
            return LockStore.create(EndpointConfig(
                url="127.0.0.1", type="rasa_addons.lock_store.AtomicRedisLockStore",
                port="6379", db="{db}", key_prefix="vecutest"))

        async def main():
            replicas, done, inside = [store(), store()], [], []
            async def message(n):
                await asyncio.sleep(0.01 * n)
                async with replicas[n % 2].lock("{key}"):
                    inside.append(n)
                    await asyncio.sleep(0.05)
                    done.append((n, len(inside)))
                    inside.remove(n)
            await asyncio.gather(*(message(n) for n in range(6)))
            print(json.dumps({{"type": type(replicas[0]).__name__, "done": done,
                "left": replicas[0].red.get(replicas[0].key_prefix + "{key}")}}, default=str))

        asyncio.run(main())
    """)
    result = subprocess.run(
        [str(python), "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["type"] == "AtomicRedisLockStore"
    assert found["done"] == [[n, 1] for n in range(6)]  # in order, one at a time
    assert found["left"] is None
