"""Rasa lock store ``rasa_addons.lock_store.AtomicRedisLockStore`` (``endpoints.scaled.yml``):
Rasa's Redis lock store with each change of a lock made atomic.

Every Rasa replica of ``make run-scaled`` queues a conversation's messages in one Redis lock,
so that one replica at a time processes them, in their order of arrival. Rasa's own
``RedisLockStore`` reads, changes and writes the lock back in separate steps, and replicas
busy with one conversation lose each other's tickets (see :mod:`rasa_addons.ticket_lock`,
which does each change in one Redis transaction). This store keeps Rasa's connection settings,
keys and format, and checks for its turn every 0.05 s rather than every second.
"""

from typing import AsyncContextManager

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from rasa_addons import ticket_lock

WAIT_S = 0.05
"""How often a queued message checks whether its turn has come (Rasa: 1 s)."""


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's ``RedisLockStore`` whose tickets are issued, expired and finished atomically."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        super().__init__(host=endpoint_config.url, **endpoint_config.kwargs)

    def _key(self, conversation_id: str) -> str:
        return self.key_prefix + conversation_id

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return ticket_lock.issue(
                self.red, self._key(conversation_id), conversation_id, lock_lifetime
            )
        except Exception as exc:  # Rasa answers a LockError; anything else would be a 500
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc

    def update_lock(self, conversation_id: str) -> None:
        ticket_lock.drop_expired(self.red, self._key(conversation_id), conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        ticket_lock.finish(self.red, self._key(conversation_id), conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # Rasa: finish serving, then delete the lock if no one waits, in three steps
        ticket_lock.finish(self.red, self._key(conversation_id), conversation_id, ticket_number)

    def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = WAIT_S,
    ) -> AsyncContextManager[TicketLock]:
        return super().lock(conversation_id, lock_lifetime, min(wait_time_in_seconds, WAIT_S))
