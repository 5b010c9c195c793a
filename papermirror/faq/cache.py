"""FAQs in Redis: the cache, the state of generations, and their event streams.

* A finished FAQ is one zstd-compressed JSON blob per (id, version, language,
  model), with no TTL: it stays until the operator clears it
  (:meth:`FaqStore.clear`). Only a FAQ with every answer complete is stored.
* A generation has a state hash (``queued``, ``generating`` or ``failed`` with a
  plain reason). :meth:`FaqStore.claim` creates it atomically, so however many
  readers click at once, one job is queued.
* The job appends events to a Redis Stream: ``start`` (question index),
  ``delta`` (text), ``done``, ``error`` and ``end``. Web processes on any host
  read it with XREAD; it expires an hour after the generation ends.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field

import redis
import zstandard

from papermirror import keys

STATE_TTL = 3600  # a queued or running generation's state outlives any job
FAILED_TTL = 300  # how long a failure is reported before a click may try again
STREAM_TTL = 3600  # a finished stream stays readable this long
PARTIAL_TTL = 24 * 3600  # finished answers of a failed generation, reused by the next try
STREAM_MAXLEN = 20000
DIED = "The FAQ's generation stopped before it finished. Please try again."

_cctx = zstandard.ZstdCompressor(level=9)
_dctx = zstandard.ZstdDecompressor()

# Create the state only if none exists, and tell the caller what is there.
_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  local s = redis.call('HGET', KEYS[1], 'status')
  -- 'generating' without the job's lock: the job died; start over.
  local dead = s == 'generating' and redis.call('EXISTS', KEYS[3]) == 0
  if s ~= 'failed' and not dead then return s end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'status', 'queued', 'since', ARGV[1], 'priority', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('DEL', KEYS[2])
return 'claimed'
"""


@dataclass
class Faq:
    """One finished FAQ: the shape of ``GET /api/papers/<id>/faq``."""

    id: str
    version: int
    language: str
    model: str
    source: str  # "fulltext" or "abstract"
    generated: str  # ISO 8601 UTC
    tldr: str
    answers: list[dict] = field(default_factory=list)  # [{"question", "answer"}]

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)


def encode(faq: Faq) -> bytes:
    """The compressed blob of a FAQ."""
    return _cctx.compress(json.dumps(faq.to_dict(), ensure_ascii=False).encode())


def decode(blob: bytes) -> Faq:
    """A FAQ from its blob."""
    return Faq(**json.loads(_dctx.decompress(blob)))


@dataclass(frozen=True)
class FaqKey:
    """What a FAQ belongs to."""

    id: str
    version: int
    language: str
    model: str

    @property
    def parts(self) -> tuple:
        """Arguments for the key functions of :mod:`papermirror.keys`."""
        return (self.id, self.version, self.language, self.model)


class FaqStore:
    """FAQ blobs, generation states and event streams, on one Redis."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._claim = client.register_script(_CLAIM)

    # --- finished FAQs ------------------------------------------------------
    def get(self, key: FaqKey) -> Faq | None:
        """The cached FAQ, or None."""
        blob = self.redis.get(keys.faq(*key.parts))
        return decode(blob) if blob else None

    def put(self, key: FaqKey, faq: Faq) -> None:
        """Cache a finished FAQ (no TTL) and list it in the paper's index."""
        with self.redis.pipeline() as pipe:
            pipe.set(keys.faq(*key.parts), encode(faq))
            pipe.sadd(keys.faq_index(key.id), f"{key.version}:{key.language}:{key.model}")
            pipe.delete(keys.faq_partial(*key.parts))
            pipe.execute()

    def versions(self, paper_id: str, language: str, model: str) -> list[int]:
        """Versions of the paper with a cached FAQ in this language and model, ascending."""
        out = []
        for member in self.redis.smembers(keys.faq_index(paper_id)):
            version, lang, mod = member.decode().split(":", 2)
            if lang == language and mod == model:
                out.append(int(version))
        return sorted(out)

    def clear(self, paper_id: str | None = None) -> int:
        """Drop cached FAQs: one paper's, or every one. Returns how many were dropped."""
        pattern = keys.faq(paper_id, 0, "", "").split("v0:")[0] + "v*" if paper_id else None
        pattern = pattern or keys.faq("*", 0, "", "").split("*")[0] + "*"
        names = list(self.redis.scan_iter(match=pattern, count=1000))
        index = (
            [keys.faq_index(paper_id)]
            if paper_id
            else list(self.redis.scan_iter(match=keys.faq_index("*"), count=1000))
        )
        if names or index:
            self.redis.delete(*names, *index)
        return len(names)

    # --- generation state ----------------------------------------------------
    def claim(self, key: FaqKey, priority: str) -> str:
        """Mark a generation queued unless one is; returns ``claimed`` or the current status."""
        result = self._claim(
            keys=[
                keys.faq_state(*key.parts),
                keys.faq_stream(*key.parts),
                keys.faq_lock(*key.parts),
            ],
            args=[f"{time.time():.3f}", priority, STATE_TTL],
        )
        return result.decode() if isinstance(result, bytes) else str(result)

    def state(self, key: FaqKey) -> dict[str, str]:
        """The state of a queued, running or failed generation (empty: none).

        A generation whose job died (``generating``, but its lock is gone) reads as failed.
        """
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(keys.faq_state(*key.parts))
            pipe.exists(keys.faq_lock(*key.parts))
            raw, locked = pipe.execute()
        state = {k.decode(): v.decode() for k, v in raw.items()}
        if state.get("status") == "generating" and not locked:
            return {"status": "failed", "error": DIED}
        return state

    def set_state(self, key: FaqKey, **fields: str) -> None:
        """Update the state hash (and keep it alive)."""
        name = keys.faq_state(*key.parts)
        with self.redis.pipeline() as pipe:
            pipe.hset(name, mapping=fields)
            pipe.expire(name, FAILED_TTL if fields.get("status") == "failed" else STATE_TTL)
            pipe.execute()

    def clear_state(self, key: FaqKey) -> None:
        """Forget the generation's state (it finished)."""
        self.redis.delete(keys.faq_state(*key.parts))

    # --- answers of a generation that failed part-way ----------------------
    def partial(self, key: FaqKey) -> dict[int, str]:
        """Answers finished by an earlier, failed try: question index -> text (``-1``: TL;DR)."""
        raw = self.redis.hgetall(keys.faq_partial(*key.parts))
        return {int(k): v.decode() for k, v in raw.items()}

    def keep_partial(self, key: FaqKey, index: int, answer: str) -> None:
        """Keep one finished answer for the next try (expires; never shown as the FAQ)."""
        name = keys.faq_partial(*key.parts)
        with self.redis.pipeline() as pipe:
            pipe.hset(name, str(index), answer)
            pipe.expire(name, PARTIAL_TTL)
            pipe.execute()

    # --- event streams --------------------------------------------------------
    def emit(self, key: FaqKey, event: dict) -> bytes:
        """Append one event to the generation's stream; returns its stream id."""
        name = keys.faq_stream(*key.parts)
        payload = {k: str(v) for k, v in event.items()}
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.xadd(name, payload, maxlen=STREAM_MAXLEN, approximate=True)
            pipe.expire(name, STREAM_TTL)
            entry_id, _ = pipe.execute()
        return entry_id

    def read(self, key: FaqKey, after: str = "0", block_ms: int | None = None) -> list:
        """Events after stream id ``after``: [(id, {field: value})], waiting up to ``block_ms``."""
        name = keys.faq_stream(*key.parts)
        reply = self.redis.xread({name: after}, count=500, block=block_ms)
        if not reply:
            return []
        return [
            (eid.decode(), {k.decode(): v.decode() for k, v in fields.items()})
            for eid, fields in reply[0][1]
        ]

    # --- the daily cap ---------------------------------------------------------
    def count_today(self, limit: int) -> bool:
        """Count one generation against today's cap; False (and not counted) when it is spent."""
        name = keys.faq_day(time.strftime("%Y-%m-%d", time.gmtime()))
        n = self.redis.incr(name)
        if n == 1:
            self.redis.expire(name, 3 * 24 * 3600)
        if limit and n > limit:
            self.redis.decr(name)
            return False
        return True

    def count_calls(self) -> int:
        """Chat requests sent to the model so far."""
        return int(self.redis.get(keys.FAQ_CALLS) or 0)
