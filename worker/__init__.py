"""RQ jobs of Paper Mirror. Run them with ``rq worker --with-scheduler papermirror``.

The web server enqueues these by dotted name and never imports this package.
"""
