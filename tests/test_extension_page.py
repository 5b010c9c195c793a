"""/extension explains the install; /extension.zip ships the extension preset to this mirror."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest

from papermirror.settings import Settings
from server import create_app
from server.extension import DEFAULT_MIRROR_LITERAL


@pytest.fixture
def app():
    app = create_app(Settings.from_env({}, redis_url="redis://127.0.0.1:1/0"))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def open_zip(resp) -> zipfile.ZipFile:
    assert resp.status_code == 200
    assert resp.mimetype == "application/zip"
    return zipfile.ZipFile(io.BytesIO(resp.data))


def test_page_explains_chrome_and_firefox(client):
    resp = client.get("/extension", base_url="http://mirror.test:8123/")
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    for words in (
        "chrome://extensions",
        "Load unpacked",
        "about:debugging",
        "Load Temporary Add-on",
        'href="/extension.zip"',
        "http://mirror.test:8123/",
        "Open in Paper Mirror",
    ):
        assert words in body, words


def test_zip_holds_only_runtime_files(client):
    archive = open_zip(client.get("/extension.zip"))
    names = set(archive.namelist())
    assert "manifest.json" in names  # at the root, as Firefox wants it
    assert {
        "background.js",
        "options.html",
        "options.js",
        "src/config.js",
        "src/target.js",
    } <= names
    assert not [n for n in names if n.startswith(("test/", "node_modules/", "tools/"))]
    assert not names & {"package.json", "package-lock.json", "README.md"}
    assert archive.testzip() is None
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["manifest_version"] == 3


@pytest.mark.parametrize(
    "base_url",
    ["http://127.0.0.1:8000/", "https://papers.example.org/", "http://[::1]:9000/"],
)
def test_zip_defaults_to_the_serving_mirror(client, base_url):
    archive = open_zip(client.get("/extension.zip", base_url=base_url))
    config = archive.read("src/config.js").decode()
    assert f'export const DEFAULT_MIRROR_URL = "{base_url}";' in config
    assert "attachment" in client.get("/extension.zip").headers["Content-Disposition"]


def test_zip_under_a_path_prefix(client):
    resp = client.get("/extension.zip", base_url="https://example.org/mirror/")
    config = open_zip(resp).read("src/config.js").decode()
    assert 'DEFAULT_MIRROR_URL = "https://example.org/mirror/";' in config


@pytest.mark.parametrize("host", ['evil.test";alert(1);"', "a b", "x.test/../", ""])
def test_a_hostile_host_header_is_refused(client, host):
    assert client.get("/extension.zip", headers={"Host": host}).status_code == 400


def test_the_literal_the_zip_rewrites_is_in_the_source():
    config = Path(__file__).resolve().parent.parent / "extension" / "src" / "config.js"
    assert config.read_text().count(DEFAULT_MIRROR_LITERAL) == 1


def test_missing_source_gives_a_clear_404(app, tmp_path):
    app.config["EXTENSION_DIR"] = str(tmp_path / "nowhere")
    client = app.test_client()
    resp = client.get("/extension.zip")
    assert resp.status_code == 404
    assert "does not include the browser extension" in resp.get_data(as_text=True)
    page = client.get("/extension")
    assert page.status_code == 200
    assert "does not include the extension" in page.get_data(as_text=True)
