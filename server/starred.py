"""``/starred``: the papers starred in this browser (kept in its localStorage only)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("starred", __name__)


@bp.get("/starred")
def starred():
    """A page that lists the reader's starred papers; starred.js fills it from localStorage."""
    return render_template("starred.html")
