"""The mirror serves its own browser extension: an install page and a zip.

The zip is built in memory from the ``extension/`` source tree, with the
default mirror URL replaced by this mirror's own address, so a person who
installs it needs to set nothing.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from urllib.parse import quote, urlsplit

from flask import Blueprint, abort, current_app, render_template, request, send_file

bp = Blueprint("extension", __name__)

# The literal in extension/src/config.js that the zip rewrites.
DEFAULT_MIRROR_LITERAL = '"http://127.0.0.1:8000/"'
# What the browser needs at run time; tests, tools and node_modules stay out.
RUNTIME_ENTRIES = (
    "manifest.json",
    "background.js",
    "options.html",
    "options.js",
    "options.css",
    "src",
    "icons",
)
ZIP_NAME = "paper-mirror-extension.zip"
# Fixed timestamps keep the zip identical from one download to the next.
_ZIP_DATE = (2024, 1, 1, 0, 0, 0)
# host, IPv4 or [IPv6], optional port
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


def extension_dir() -> Path | None:
    """The extension's source tree: app config EXTENSION_DIR, else the repository's."""
    configured = current_app.config.get("EXTENSION_DIR")
    candidate = (
        Path(configured) if configured else Path(__file__).resolve().parent.parent / "extension"
    )
    return candidate if (candidate / "manifest.json").is_file() else None


def runtime_files(root: Path) -> list[tuple[str, Path]]:
    """(name in the zip, file) for every runtime file under ``root``, sorted."""
    files = []
    for entry in RUNTIME_ENTRIES:
        path = root / entry
        found = sorted(path.rglob("*")) if path.is_dir() else [path]
        for item in found:
            rel = item.relative_to(root)
            if item.is_file() and not any(part.startswith(".") for part in rel.parts):
                files.append((rel.as_posix(), item))
    return files


def mirror_url() -> str:
    """This mirror's base URL as the browser sees it, always ending in '/'."""
    parts = urlsplit(request.url_root)
    if not _HOST.fullmatch(parts.netloc):
        abort(400, description="The request's Host header is not a valid host name.")
    scheme = parts.scheme if parts.scheme in ("http", "https") else "http"
    path = quote(parts.path if parts.path.endswith("/") else parts.path + "/", safe="/%")
    return f"{scheme}://{parts.netloc}{path}"


def build_zip(root: Path, base_url: str) -> bytes:
    """The installable zip, manifest.json at its root, defaulting to ``base_url``."""
    # json.dumps makes any Host header safe inside the JS string literal.
    literal = json.dumps(base_url)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in runtime_files(root):
            data = path.read_bytes()
            if name.endswith(".js"):
                data = data.replace(DEFAULT_MIRROR_LITERAL.encode(), literal.encode())
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _version(root: Path | None) -> str:
    if root is None:
        return ""
    try:
        return json.loads((root / "manifest.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return ""


@bp.get("/extension")
def page():
    """How to install the browser extension in Chrome and Firefox."""
    root = extension_dir()
    return render_template(
        "extension.html", available=root is not None, version=_version(root), mirror=mirror_url()
    )


@bp.get("/extension.zip")
def download():
    """The extension as a zip, preset to this mirror's address."""
    root = extension_dir()
    if root is None:
        message = (
            "This installation of Paper Mirror does not include the browser extension's "
            "source. Download it from the project's repository (the extension/ folder) instead."
        )
        return render_template(
            "error.html", status=404, title="Extension not available", message=message
        ), 404
    response = send_file(
        io.BytesIO(build_zip(root, mirror_url())),
        mimetype="application/zip",
        as_attachment=True,
        download_name=ZIP_NAME,
    )
    # The content depends on the address the mirror was reached by.
    response.headers["Vary"] = "Host"
    response.headers["Cache-Control"] = "no-cache"
    return response
