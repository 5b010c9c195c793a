"""The fair queue of ids waiting for a first-visit fetch.

Every pending id is in ``keys.PENDING`` (scored by when it was first asked
for, as before), and remembers which client asked for it. Each client's first
``fetch_fair_share`` pending ids also go into ``keys.PENDING_FIRST``: a batch
takes those first, newest first, and fills up with the oldest of the rest. So
a reader who opens one paper during a flood of thousands of ids from a bulk
requester is in the very next batch, one limiter interval away at most.

The queue is bounded per client and overall; ids beyond a bound are refused,
and the page says so, instead of growing the wait for everyone.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import redis

from papermirror import keys
from papermirror.settings import Settings

# A client's set of pending ids expires this long after its last addition, so
# an id cleared by other code (the sweeper, Store.clear_pending) cannot hold a
# client's quota for ever.
CLIENT_TTL = 3600
ANONYMOUS = "-"

# KEYS: PENDING, PENDING_FIRST, PENDING_OWNER, the client's set.
# ARGV: now, max overall, max per client, fair share, client, client TTL, ids...
_ADD = """
local total = redis.call('ZCARD', KEYS[1])
local mine = redis.call('SCARD', KEYS[4])
local max_total, max_client = tonumber(ARGV[2]), tonumber(ARGV[3])
local fair = tonumber(ARGV[4])
local added, refused = {}, {}
for i = 7, #ARGV do
  local id = ARGV[i]
  if not redis.call('ZSCORE', KEYS[1], id) then
    if total >= max_total or mine >= max_client then
      table.insert(refused, id)
    else
      redis.call('ZADD', KEYS[1], ARGV[1], id)
      if mine < fair then redis.call('ZADD', KEYS[2], ARGV[1], id) end
      redis.call('HSET', KEYS[3], id, ARGV[5])
      redis.call('SADD', KEYS[4], id)
      redis.call('EXPIRE', KEYS[4], ARGV[6])
      total = total + 1
      mine = mine + 1
      table.insert(added, id)
    end
  end
end
return {added, refused}
"""


@dataclass
class Added:
    """What :meth:`PendingQueue.add` did: ids newly queued, and ids refused by a bound."""

    added: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


class PendingQueue:
    """The pending ids, their owners and the bounds; see the module docstring."""

    def __init__(self, client: redis.Redis, settings: Settings) -> None:
        self.redis = client
        self.settings = settings
        self._add = client.register_script(_ADD)

    def add(self, paper_ids: Iterable[str], client: str | None = None) -> Added:
        """Queue ids for ``client`` (an address; None: anonymous), within the bounds."""
        ids = list(dict.fromkeys(paper_ids))
        if not ids:
            return Added()
        who = client or ANONYMOUS
        s = self.settings
        added, refused = self._add(
            keys=[keys.PENDING, keys.PENDING_FIRST, keys.PENDING_OWNER, keys.pending_client(who)],
            args=[
                f"{time.time():.6f}",
                s.fetch_max_pending,
                s.fetch_max_pending_per_client,
                s.fetch_fair_share,
                who,
                CLIENT_TTL,
                *ids,
            ],
        )
        return Added([i.decode() for i in added], [i.decode() for i in refused])

    def batch(self, limit: int) -> list[str]:
        """The next ``limit`` ids to fetch: fair shares newest first, then the oldest others."""
        first = [m.decode() for m in self.redis.zrevrange(keys.PENDING_FIRST, 0, limit - 1)]
        if first:
            scores = self.redis.zmscore(keys.PENDING, first)
            gone = [i for i, s in zip(first, scores, strict=True) if s is None]
            if gone:  # cleared by other code: forget them here too
                self.redis.zrem(keys.PENDING_FIRST, *gone)
                first = [i for i in first if i not in gone]
        taken = set(first)
        rest = [
            i
            for i in (m.decode() for m in self.redis.zrange(keys.PENDING, 0, limit + len(first)))
            if i not in taken
        ]
        return (first + rest)[:limit]

    def count(self) -> int:
        """How many ids wait."""
        return self.redis.zcard(keys.PENDING)

    def clear(self, paper_ids: Sequence[str]) -> None:
        """Take ids off the queue (their fetch has an outcome) and off their clients' quotas."""
        ids = list(paper_ids)
        if not ids:
            return
        owners = self.redis.hmget(keys.PENDING_OWNER, ids)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.zrem(keys.PENDING, *ids)
            pipe.zrem(keys.PENDING_FIRST, *ids)
            pipe.hdel(keys.PENDING_OWNER, *ids)
            for paper_id, owner in zip(ids, owners, strict=True):
                if owner:
                    pipe.srem(keys.pending_client(owner.decode()), paper_id)
            pipe.execute()
