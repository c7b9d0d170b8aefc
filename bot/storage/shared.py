"""State that every replica of a process must share: in memory by default, Redis when set.

One web process can keep its login throttling and its Telegram flow control in memory; two
cannot (a failed login counted by one replica would be forgotten by the other, a Telegram
retry landing on the other replica would be processed twice). :func:`shared_state` gives
the store of the process: :class:`MemoryState` for the embedded default (``make run``, no
server needed), :class:`RedisState` when ``VECU_REDIS_URL`` is set (``make run-scaled``).

The store offers only what its users need:

- :meth:`~SharedState.first`: ``True`` the first time a key is seen within a TTL (Telegram
  ``update_id`` dedup, "already told this chat it is rate-limited");
- :meth:`~SharedState.add_event` / :meth:`~SharedState.events` / :meth:`~SharedState.forget`:
  a sliding-window log of timestamps per key (failed logins, messages per chat), so limits
  read the same on every replica and follow the caller's clock;
- :meth:`~SharedState.put` / :meth:`~SharedState.get`: a value with a TTL (payloads of
  Telegram buttons too long for ``callback_data``);
- :meth:`~SharedState.lock`: a lock per key across replicas (updates of one Telegram chat
  handled one at a time, in order).

**When Redis fails**, each call logs a warning and answers permissively (first time, no
events, no lock): the conversation goes on and no message is lost (feedback is deduplicated
by its message id in the database, :mod:`bot.feedback.intake`); flow control resumes as soon as
Redis answers again (redis-py reconnects by itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Protocol

import redis

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

KEY_PREFIX = "vecu:"
"""Prefix of every Redis key Vécu writes (one Redis can serve other applications too)."""
MAX_KEYS = 100_000
"""Keys a :class:`MemoryState` keeps before forgetting the oldest (bounded memory)."""
LOCK_POLL_S = 0.01
"""How often a waiting :meth:`SharedState.lock` tries again."""
WARN_EVERY_S = 30.0
"""At most one warning this often while Redis fails."""


class SharedState(Protocol):
    """What the replicas of a process share (see the module docstring)."""

    def first(self, key: str, ttl_s: float) -> bool:
        """``True`` when ``key`` was not seen in the last ``ttl_s`` seconds (and mark it)."""
        ...

    def add_event(self, key: str, at: float, window_s: float) -> int:
        """Log one event at ``at`` (seconds) under ``key``, kept for ``window_s``; how many
        events ``key`` has in the window, this one included, counted in the same atomic step
        (two replicas adding at once each see the other's event)."""
        ...

    def drop_event(self, key: str, at: float) -> None:
        """Take back the event logged at ``at`` under ``key`` (an attempt that turned out
        not to count)."""
        ...

    def events(self, key: str, now: float, window_s: float) -> list[float]:
        """The times of ``key``'s events in ``(now - window_s, now]``, oldest first."""
        ...

    def forget(self, *keys: str) -> None:
        """Drop everything stored under these keys."""
        ...

    def put(self, key: str, value: str, ttl_s: float) -> None:
        """Keep ``value`` under ``key`` for ``ttl_s`` seconds."""
        ...

    def get(self, key: str) -> str | None:
        """The value under ``key``, ``None`` when absent or expired."""
        ...

    def lock(self, key: str, ttl_s: float = 60.0) -> contextlib.AbstractAsyncContextManager[None]:
        """Hold ``key``'s lock (across replicas) for the ``async with`` block.

        ``ttl_s`` bounds how long a crashed holder can keep others waiting.
        """
        ...


class MemoryState:
    """The store of a single process (the embedded default): dictionaries, bounded."""

    def __init__(self, *, clock: Any = time.monotonic, max_keys: int = MAX_KEYS) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._expiry: OrderedDict[str, float] = OrderedDict()
        self._values: dict[str, str] = {}
        self._events: dict[str, deque[float]] = {}
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._mutex = threading.Lock()

    def _alive(self, key: str) -> bool:
        expiry = self._expiry.get(key)
        if expiry is None:
            return False
        if expiry > self._clock():
            return True
        self._drop(key)
        return False

    def _drop(self, key: str) -> None:
        self._expiry.pop(key, None)
        self._values.pop(key, None)
        self._events.pop(key, None)

    def _keep(self, key: str, ttl_s: float) -> None:
        self._expiry[key] = self._clock() + ttl_s
        self._expiry.move_to_end(key)
        while len(self._expiry) > self._max_keys:
            oldest, _ = self._expiry.popitem(last=False)
            self._values.pop(oldest, None)
            self._events.pop(oldest, None)

    def first(self, key: str, ttl_s: float) -> bool:
        with self._mutex:
            if self._alive(key):
                return False
            self._keep(key, ttl_s)
            return True

    def add_event(self, key: str, at: float, window_s: float) -> int:
        with self._mutex:
            times = self._events.get(key) if self._alive(key) else None
            if times is None:
                times = self._events[key] = deque()
            times.append(at)
            while times and at - times[0] >= window_s:
                times.popleft()
            self._keep(key, window_s)
            return len(times)

    def drop_event(self, key: str, at: float) -> None:
        with self._mutex:
            times = self._events.get(key) if self._alive(key) else None
            if times is not None and at in times:
                times.remove(at)

    def events(self, key: str, now: float, window_s: float) -> list[float]:
        with self._mutex:
            if not self._alive(key):
                return []
            return [at for at in self._events.get(key, ()) if now - window_s < at <= now]

    def forget(self, *keys: str) -> None:
        with self._mutex:
            for key in keys:
                self._drop(key)

    def put(self, key: str, value: str, ttl_s: float) -> None:
        with self._mutex:
            self._values[key] = value
            self._keep(key, ttl_s)

    def get(self, key: str) -> str | None:
        with self._mutex:
            return self._values.get(key) if self._alive(key) else None

    @contextlib.asynccontextmanager
    async def lock(self, key: str, ttl_s: float = 60.0) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]  # nobody waits: forgotten (bounded memory)
            else:
                self._locks[key] = (lock, users - 1)


# A fair lock: waiters queue in a list (arrival order) and the head holds it. Each token's
# last sign of life (its last poll while waiting, its acquisition once it holds) is kept in a
# hash; a head silent for longer than the TTL (a replica killed while holding) is dropped.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
if not redis.call('LPOS', KEYS[1], ARGV[1]) then redis.call('RPUSH', KEYS[1], ARGV[1]) end
redis.call('HSET', KEYS[2], ARGV[1], now)
redis.call('PEXPIRE', KEYS[1], ttl * 2)
redis.call('PEXPIRE', KEYS[2], ttl * 2)
while true do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if head == ARGV[1] then return 1 end
  local seen = tonumber(redis.call('HGET', KEYS[2], head) or '0')
  if now - seen <= ttl then return 0 end
  redis.call('LPOP', KEYS[1])
  redis.call('HDEL', KEYS[2], head)
end
"""
_RELEASE = """
redis.call('LREM', KEYS[1], 1, ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
"""


class RedisState:
    """The store of several replicas: one Redis server (``VECU_REDIS_URL``).

    Args:
        url: ``redis://host:port/db``.
        prefix: prefix of every key.
        timeout_s: socket timeout of each call.
    """

    def __init__(self, url: str, *, prefix: str = KEY_PREFIX, timeout_s: float = 1.0) -> None:
        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        self.client = redis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            health_check_interval=15,
            decode_responses=True,
        )
        self.prefix = prefix
        self._acquire_script = self.client.register_script(_ACQUIRE)
        self._release_script = self.client.register_script(_RELEASE)
        self._warned = 0.0

    def _warn(self, what: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned >= WARN_EVERY_S:
            self._warned = now
            log.warning("Redis unavailable (%s: %s); going on without it", what, exc)

    @staticmethod
    def _ms(seconds: float) -> int:
        return max(1, int(seconds * 1000))

    def first(self, key: str, ttl_s: float) -> bool:
        try:
            return bool(self.client.set(self.prefix + key, "1", nx=True, px=self._ms(ttl_s)))
        except self._errors as exc:
            self._warn("first", exc)
            return True

    def add_event(self, key: str, at: float, window_s: float) -> int:
        name = self.prefix + key
        try:
            with self.client.pipeline(transaction=True) as pipe:  # MULTI/EXEC: one step
                pipe.zadd(name, {f"{at!r}:{secrets.token_hex(4)}": at})
                pipe.zremrangebyscore(name, "-inf", f"({at - window_s!r}")
                pipe.pexpire(name, self._ms(window_s))
                pipe.zcard(name)
                return int(pipe.execute()[-1])
        except self._errors as exc:
            self._warn("add_event", exc)
            return 0

    def drop_event(self, key: str, at: float) -> None:
        try:
            self.client.zremrangebyscore(self.prefix + key, repr(at), repr(at))
        except self._errors as exc:
            self._warn("drop_event", exc)

    def events(self, key: str, now: float, window_s: float) -> list[float]:
        try:
            found = self.client.zrangebyscore(
                self.prefix + key, f"({now - window_s!r}", repr(now), withscores=True
            )
        except self._errors as exc:
            self._warn("events", exc)
            return []
        return [float(score) for _, score in found]  # type: ignore[union-attr]

    def forget(self, *keys: str) -> None:
        if not keys:
            return
        try:
            self.client.delete(*(self.prefix + key for key in keys))
        except self._errors as exc:
            self._warn("forget", exc)

    def put(self, key: str, value: str, ttl_s: float) -> None:
        try:
            self.client.set(self.prefix + key, value, px=self._ms(ttl_s))
        except self._errors as exc:
            self._warn("put", exc)

    def get(self, key: str) -> str | None:
        try:
            value = self.client.get(self.prefix + key)
        except self._errors as exc:
            self._warn("get", exc)
            return None
        return value if isinstance(value, str) else None

    def _acquire(self, names: list[str], token: str, ttl_s: float) -> bool | None:
        """Queue for the lock (once) and poll it: ``True`` held, ``False`` wait, ``None`` failed."""
        try:
            return bool(self._acquire_script(keys=names, args=[token, self._ms(ttl_s)]))
        except self._errors as exc:
            self._warn("lock", exc)
            return None

    def _release(self, names: list[str], token: str) -> None:
        try:
            self._release_script(keys=names, args=[token])
        except self._errors as exc:
            self._warn("unlock", exc)

    @contextlib.asynccontextmanager
    async def lock(self, key: str, ttl_s: float = 60.0) -> AsyncIterator[None]:
        base = self.prefix + "lock:" + key
        names, token = [base + ":queue", base + ":seen"], secrets.token_hex(16)
        deadline = time.monotonic() + ttl_s
        held = await asyncio.to_thread(self._acquire, names, token, ttl_s)
        while held is False and time.monotonic() < deadline:
            await asyncio.sleep(LOCK_POLL_S)
            held = await asyncio.to_thread(self._acquire, names, token, ttl_s)
        if held is False:
            log.warning("lock %s still held after %.0f s; going on without it", key, ttl_s)
        try:
            yield
        finally:
            await asyncio.to_thread(self._release, names, token)


_stores: dict[str, RedisState] = {}
_stores_lock = threading.Lock()


def shared_state(settings: Settings) -> SharedState:
    """A store for one owner (a login throttle, a Telegram bot) of this process.

    With ``VECU_REDIS_URL`` set, every owner of every replica gets the same Redis (one
    client per URL and process); without it, each call gives a new :class:`MemoryState`:
    one process has one owner of each kind, and tests do not share state by accident.
    """
    url = settings.redis_url.strip()
    if not url:
        return MemoryState()
    with _stores_lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = RedisState(url)
        return store
