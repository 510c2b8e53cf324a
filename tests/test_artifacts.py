"""The Prefect "documents" artifact opens from the Prefect UI: an http link under EVALPREP_PUBLIC_URL, else the
path as text to copy (never a file:// link a browser will not open); `evalprep serve-files` serves that link."""
from __future__ import annotations

import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tasks.artifacts import documents_link, documents_path_markdown


def test_the_link_is_the_run_folders_index_under_the_public_address():
    folder = Path("/srv/out/2016-W39-inspection-610928100201")
    assert documents_link(folder, "http://10.1.2.3:8080/") == "http://10.1.2.3:8080/2016-W39-inspection-610928100201/index.html"
    assert documents_link(Path("/srv/out/2016-W39"), "https://office/evalprep") == "https://office/evalprep/2016-W39/index.html"
    assert documents_link(folder, None) is None
    assert documents_link(folder, "file:///srv/out") is None  # not an address a browser opens from the UI


def test_without_an_address_the_path_is_text_to_copy(tmp_path):
    text = documents_path_markdown("2016-W39", tmp_path / "2016-W39")
    assert f"```\n{tmp_path / '2016-W39' / 'index.html'}\n```" in text
    assert "file://" not in text and "EVALPREP_PUBLIC_URL" in text


def _artifact_of_a_flow_run(week: str, folder: Path):
    from prefect import flow
    from prefect.artifacts import Artifact

    from tasks.artifacts import documents_artifact

    @flow
    def publish() -> None:
        documents_artifact(week, folder)

    publish()
    return Artifact.get("run-documents")


@pytest.mark.slow
def test_the_artifact_on_a_flow_run_is_an_http_link_or_the_path(prefect_harness, tmp_path, monkeypatch):
    monkeypatch.delenv("EVALPREP_PUBLIC_URL", raising=False)
    artifact = _artifact_of_a_flow_run("2016-W38", tmp_path / "2016-W38")
    assert artifact.type == "markdown" and str(tmp_path / "2016-W38" / "index.html") in artifact.data
    assert "file://" not in artifact.data

    monkeypatch.setenv("EVALPREP_PUBLIC_URL", "http://192.0.2.10:8080")
    artifact = _artifact_of_a_flow_run("2016-W39", tmp_path / "2016-W39")
    assert artifact.type == "link" and "http://192.0.2.10:8080/2016-W39/index.html" in artifact.data


def test_serve_files_serves_the_link_and_hides_staging_and_the_store(tmp_path):
    from evalprep.file_server import file_server

    (tmp_path / "2016-W39").mkdir()
    (tmp_path / "2016-W39" / "index.html").write_text("<h1>2016-W39</h1>", encoding="utf-8")
    (tmp_path / ".staging-2016-W40-x").mkdir()
    (tmp_path / ".staging-2016-W40-x" / "index.html").write_text("half", encoding="utf-8")
    server = file_server(tmp_path, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        with urllib.request.urlopen(documents_link(tmp_path / "2016-W39", base), timeout=10) as answer:
            assert answer.status == 200 and answer.read() == b"<h1>2016-W39</h1>"
        with pytest.raises(urllib.error.HTTPError) as hidden:
            urllib.request.urlopen(base + ".staging-2016-W40-x/index.html", timeout=10)
        assert hidden.value.code == 404
    finally:
        server.shutdown()
        server.server_close()
