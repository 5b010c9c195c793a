"""arXiv clients: the polite HTTP session, the global limiter and the API client."""
