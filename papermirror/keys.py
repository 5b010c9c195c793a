"""Every Redis key name and TTL Paper Mirror uses, in one place.

Keys are short on purpose: with hundreds of thousands of papers, each byte of
key name is paid once per paper.
"""

PREFIX = "pm:"


# One compact blob per paper (see papermirror.codec), a hundred papers to a hash
# (see papermirror.buckets): the hash of ``2411.12345`` is ``pm:p:2411.123``, its
# field ``45``. No paper id is a bucket's name (ids end in at least 4 digits).
PAPERS_MATCH = f"{PREFIX}p:*"
BUCKET_PREFIX = f"{PREFIX}p:"


def paper_slot(paper_id: str) -> tuple[str, str]:
    """The hash that holds one paper's record, and the record's field in it."""
    return f"{BUCKET_PREFIX}{paper_id[:-2]}", paper_id[-2:]


def paper_id(bucket: str | bytes, field: str | bytes) -> str:
    """The paper id of a bucket's field (the inverse of :func:`paper_slot`)."""
    if isinstance(bucket, bytes):
        bucket = bucket.decode()
    if isinstance(field, bytes):
        field = field.decode()
    return bucket[len(BUCKET_PREFIX) :] + field


def legacy_paper(paper_id: str) -> str:
    """Where releases before the buckets kept a paper's record (one string key each)."""
    return f"{BUCKET_PREFIX}{paper_id}"


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


# --- limiter ---
def fetch_reason(paper_id: str) -> str:
    """Short reason code of the last failed fetch, beside fetch_error's detail (expires with it).

    ``"<code>|<retry at, unix seconds or empty>"``; codes in papermirror.arxiv.status.REASON_CODES.
    """
    return f"{PREFIX}fcode:{paper_id}"


# arXiv's current trouble, for every page that waits: "<code>|<since>|<retry at>". Set by
# the polite HTTP layer on each failed attempt, deleted by the next success.
ARXIV_TROUBLE = f"{PREFIX}arxiv:trouble"
# Moving average of arXiv's answer time in seconds, to tell how long a fetch will take.
ARXIV_RTT = f"{PREFIX}arxiv:rtt"
# Set while a follow-up drain (after a skip or a failure) is scheduled; see fetching.
FETCH_FOLLOWUP = f"{PREFIX}fetch:followup"
# Failed drains in a row, for the background retry's backoff.
FETCH_FAILS = f"{PREFIX}fetch:fails"
# Published with the ids whose fetch just ended (found, missing or failed), so waiting pages
# learn of it at once instead of polling.
FETCH_DONE = f"{PREFIX}fetch:done"
# The fair pending queue (papermirror.pending). PENDING keeps every pending id by queue
# time; PENDING_FIRST holds the ids within their client's fair share, which go first.
PENDING_FIRST = f"{PREFIX}pending:first"
# Hash: pending id -> the client that asked for it.
PENDING_OWNER = f"{PREFIX}pending:owner"


def pending_client(client: str) -> str:
    """Set of the ids one client has pending (expires: it heals if an id was cleared elsewhere)."""
    return f"{PREFIX}pending:c:{client}"


# --- faq ---
# RQ queues of FAQ generation, in priority order: a reader's click, today's
# papers, the backlog. A worker listening on all three takes them in this order.
FAQ_QUEUES = ("papermirror-faq-click", "papermirror-faq-today", "papermirror-faq-backlog")


def faq(paper_id: str, version: int, language: str, model: str) -> str:
    """The cached FAQ of one paper version, language and model (zstd JSON; kept until cleared)."""
    return f"{PREFIX}faq:{paper_id}v{version}:{language}:{model}"


def faq_index(paper_id: str) -> str:
    """Set of ``<version>:<language>:<model>`` that have a cached FAQ for this paper."""
    return f"{PREFIX}faqi:{paper_id}"


def faq_state(paper_id: str, version: int, language: str, model: str) -> str:
    """Hash of a queued or running generation (status, stream, error); expires."""
    return f"{PREFIX}faqs:{paper_id}v{version}:{language}:{model}"


def faq_stream(paper_id: str, version: int, language: str, model: str) -> str:
    """Redis Stream of a generation's events, read by the pages (expires after it ends)."""
    return f"{PREFIX}faqx:{paper_id}v{version}:{language}:{model}"


def faq_partial(paper_id: str, version: int, language: str, model: str) -> str:
    """Hash question index -> finished answer of a generation that failed part-way; expires."""
    return f"{PREFIX}faqp:{paper_id}v{version}:{language}:{model}"


def faq_lock(paper_id: str, version: int, language: str, model: str) -> str:
    """Held by the one job generating this FAQ."""
    return f"{PREFIX}faql:{paper_id}v{version}:{language}:{model}"


def faq_regenerated(paper_id: str, version: int, language: str, model: str) -> str:
    """Set for a day after a reader asked to regenerate this FAQ (one regeneration a day)."""
    return f"{PREFIX}faqr:{paper_id}v{version}:{language}:{model}"


def faq_day(date: str) -> str:
    """Counter of FAQ generations started on ``date`` (UTC, YYYY-MM-DD), for the daily cap."""
    return f"{PREFIX}faqd:{date}"


# Counter of chat requests sent to the model, for /healthz and the benchmarks.
FAQ_CALLS = f"{PREFIX}faqc"


# --- search ---
# Stream of written paper ids, field "ids" = space-separated ids, or "idz" = the same
# zstd-compressed (papermirror.search.announce).
SEARCH_STREAM = f"{PREFIX}search:ids"
# Hash paper id -> YYYYMMDD of the day a daily feed first announced it as new: the date
# search files a paper under while its record has none (feed records carry no dates).
SEARCH_ANNOUNCED = f"{PREFIX}search:announced"
