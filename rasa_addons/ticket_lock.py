"""One conversation's ticket lock in Redis, every change atomic (the engine of
:mod:`rasa_addons.lock_store`; plain redis-py, Python 3.10 and 3.11).

Rasa's ``RedisLockStore`` keeps a conversation's lock as one JSON value, its ``TicketLock``:
the conversation id and a queue of tickets, each a JSON string ``{"number", "expires"}``. It
changes the lock by reading it, changing it in Python and writing it back. Two replicas doing
that at once lose one of the changes:

- a ticket issued by one replica while another writes back its finished or expired tickets
  disappears: its message waits for a turn that was never queued, or fails with ``LockError``
  when the lock is deleted under it;
- two replicas issuing at once give the same number to two messages, processed together;
- the lock is deleted when "no one is waiting", read just before a new ticket was written.

Here each change is one Redis transaction (``WATCH`` the key, read, ``MULTI``/``EXEC`` the
write; redis-py runs it again when another client changed the key in between), on the same
key and in the same format as Rasa's, so Rasa reads the lock as ever.
"""

import json
import time
from typing import Any, Callable, List, Optional, Tuple

Ticket = Tuple[int, float]
"""A ticket: its number and when it expires (seconds since the epoch)."""


def decode(raw: Optional[bytes]) -> List[Ticket]:
    """The tickets of a stored lock, in queue order (none when there is no lock)."""
    if not raw:
        return []
    tickets = []
    for item in json.loads(raw).get("tickets", []):
        ticket = json.loads(item)
        tickets.append((int(ticket["number"]), float(ticket["expires"])))
    return tickets


def encode(conversation_id: str, tickets: List[Ticket]) -> str:
    """The stored lock: Rasa's ``TicketLock.dumps()`` format."""
    items = [json.dumps({"number": number, "expires": expires}) for number, expires in tickets]
    return json.dumps({"conversation_id": conversation_id, "tickets": items})


def read(client: Any, key: str) -> List[Ticket]:
    """The lock's tickets as they are now."""
    return decode(client.get(key))


def issue(
    client: Any,
    key: str,
    conversation_id: str,
    lifetime_s: float,
    clock: Callable[[], float] = time.time,
) -> int:
    """Queue a new ticket, valid ``lifetime_s``; its number follows the last one queued
    (expired tickets are dropped first, as Rasa does)."""

    def change(pipe: Any) -> int:
        now = clock()
        tickets = [t for t in decode(pipe.get(key)) if t[1] >= now]
        number = tickets[-1][0] + 1 if tickets else 0
        tickets.append((number, now + lifetime_s))
        pipe.multi()
        pipe.set(key, encode(conversation_id, tickets))
        return number

    return int(client.transaction(change, key, value_from_callable=True))


def drop_expired(
    client: Any, key: str, conversation_id: str, clock: Callable[[], float] = time.time
) -> None:
    """Drop the lock's expired tickets (a replica killed while holding one lets the next go)."""

    def change(pipe: Any) -> None:
        raw = pipe.get(key)
        if raw is None:
            return  # no lock: nothing to write (and nothing created)
        now = clock()
        tickets = decode(raw)
        kept = [t for t in tickets if t[1] >= now]
        if kept != tickets:
            pipe.multi()
            pipe.set(key, encode(conversation_id, kept))

    client.transaction(change, key)


def finish(client: Any, key: str, conversation_id: str, number: int) -> None:
    """Take ticket ``number`` off the queue; delete the lock when no ticket is left."""

    def change(pipe: Any) -> None:
        tickets = decode(pipe.get(key))
        kept = [t for t in tickets if t[0] != number]
        if not kept:
            pipe.multi()
            pipe.delete(key)
        elif kept != tickets:
            pipe.multi()
            pipe.set(key, encode(conversation_id, kept))

    client.transaction(change, key)
