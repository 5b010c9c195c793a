"""The home page."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("pages", __name__)


@bp.get("/")
def home():
    """Open any paper: a box that takes a link or an id."""
    return render_template("home.html")
