"""The Prefect "documents" artifact opens from the Prefect UI: an http link under EVALPREP_PUBLIC_URL, else the
path as text to copy (never a file:// link a browser will not open); `evalprep serve-files` serves that link."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from evalprep.settings import PROJECT_ROOT
from flows.artifacts import documents_link, documents_path_markdown


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


# a flow run that publishes the documents artifact and prints it, in a process of its own with Prefect's
# temporary API (as a CLI run has it; the startup timeout is generous for a loaded machine)
FLOW_RUN = """
import json, sys
from pathlib import Path
from prefect import flow
from prefect.artifacts import Artifact
from flows.artifacts import documents_artifact

@flow
def publish() -> None:
    documents_artifact(sys.argv[1], Path(sys.argv[2]))

publish()
artifact = Artifact.get("run-documents")
print(json.dumps({"type": artifact.type, "data": artifact.data}))
"""


def _artifact_of_a_flow_run(week: str, folder: Path, tmp_path: Path, public_url: str | None) -> dict:
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / f"prefect-home-{week}"), "PREFECT_LOGGING_LEVEL": "WARNING",
           "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "600"}
    env.pop("PREFECT_API_URL", None)
    env.pop("EVALPREP_PUBLIC_URL", None)
    if public_url:
        env["EVALPREP_PUBLIC_URL"] = public_url
    done = subprocess.run([sys.executable, "-c", FLOW_RUN, week, str(folder)], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_the_artifact_on_a_flow_run_is_an_http_link_or_the_path(tmp_path):
    artifact = _artifact_of_a_flow_run("2016-W38", tmp_path / "2016-W38", tmp_path, None)
    assert artifact["type"] == "markdown" and str(tmp_path / "2016-W38" / "index.html") in artifact["data"]
    assert "file://" not in artifact["data"] and "](" not in artifact["data"]  # no link, the path as text

    artifact = _artifact_of_a_flow_run("2016-W39", tmp_path / "2016-W39", tmp_path, "http://192.0.2.10:8080")
    # Prefect stores a link artifact as a markdown link
    assert "](http://192.0.2.10:8080/2016-W39/index.html)" in artifact["data"], artifact


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
