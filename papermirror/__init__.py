"""Paper Mirror domain code: ids, records, the Redis store and the arXiv clients.

Imports neither Flask nor RQ.
"""
