"""Every Redis key name and TTL Paper Mirror uses, in one place.

Keys are short on purpose: with hundreds of thousands of papers, each byte of
key name is paid once per paper.
"""

PREFIX = "pm:"


# One compact blob per paper (see papermirror.codec).
def paper(paper_id: str) -> str:
    """The record of one paper."""
    return f"{PREFIX}p:{paper_id}"


def missing(paper_id: str) -> str:
    """Negative cache: arXiv said this id does not exist (expires, see Settings.missing_ttl)."""
    return f"{PREFIX}miss:{paper_id}"


def refresh(paper_id: str) -> str:
    """Set while a refresh of this paper for a newer version is under way (expires)."""
    return f"{PREFIX}refr:{paper_id}"


def fetch_error(paper_id: str) -> str:
    """The reason the last fetch of this id failed (expires, see Settings.error_ttl)."""
    return f"{PREFIX}ferr:{paper_id}"


# Sorted set of ids waiting for a batched API fetch, scored by first request time.
PENDING = f"{PREFIX}pending"

# The global arXiv limiter: who holds the one connection, and when the next
# request may start (a float of Redis server time, in seconds).
ARXIV_LOCK = f"{PREFIX}arxiv:lock"
ARXIV_NEXT = f"{PREFIX}arxiv:next"
# Counter of requests sent to arXiv, for /healthz and the benchmarks.
ARXIV_CALLS = f"{PREFIX}arxiv:calls"

# Name of the RQ queue the fetch jobs run on.
FETCH_QUEUE = "papermirror"

# Held by the one worker draining PENDING (see papermirror.fetching).
FETCH_LOCK = f"{PREFIX}fetch:lock"
# Set while a drain job waits in the queue, so a burst of first visits enqueues one job.
FETCH_QUEUED = f"{PREFIX}fetch:queued"


# Daily listings (see papermirror.listings). A category's listing of one
# announcement day is one string, "id:n1,id:c2,...", in feed order.
def listing(category: str, date: str) -> str:
    """The papers announced in ``category`` on ``date`` (YYYY-MM-DD), with type and version."""
    return f"{PREFIX}l:{category}:{date}"


def listing_dates(term: str) -> str:
    """Sorted set of the days that have a listing for a category or an archive (score YYYYMMDD)."""
    return f"{PREFIX}ld:{term}"


# Hash: followed category or archive -> JSON outcome of its last feed fetch.
FEED_STATUS = f"{PREFIX}feeds"
# List of recent fetch outcomes, newest first, capped at FEED_LOG_LENGTH.
FEED_LOG = f"{PREFIX}feeds:log"
FEED_LOG_LENGTH = 500

# --- listings on demand ---
# Sorted set: category or archive not in the settings' list -> when a reader last opened it.
VISITED = f"{PREFIX}visited"


def on_demand(term: str) -> str:
    """Set (expiring) while an on-demand fetch of ``term``'s feed is queued or running."""
    return f"{PREFIX}od:{term}"


# --- operations (metrics, /admin) ---
def metric(name: str) -> str:
    """Hash of a metric counted in Redis by every process (see papermirror.metrics)."""
    return f"{PREFIX}metric:{name}"


# Recent first-visit fetch errors, one JSON entry per batch, newest first, capped.
FETCH_ERROR_LOG = f"{PREFIX}ferrlog"
FETCH_ERROR_LOG_LENGTH = 200


# Failed /admin sign-ins per client address, counted in a short window.
def admin_failures(client: str) -> str:
    """Count of failed /admin attempts from one client address (expires)."""
    return f"{PREFIX}admin:fail:{client}"


# --- search ---
# Stream of written paper ids, field "ids" = space-separated ids (papermirror.search.announce).
SEARCH_STREAM = f"{PREFIX}search:ids"
