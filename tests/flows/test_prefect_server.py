"""The multi-machine set-up in small: a real Prefect server on its own PostgreSQL instance, `evalprep serve`
registering the deployments and running their flow runs, an inspection triggered through the Prefect API,
and its dossier found on disk. Needs PostgreSQL's server binaries (./run.sh test installs them)."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.conftest import LAST_WEEK
from tests.servers import free_port, prefect_server, started, stop, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture()
def postgres():
    """A private PostgreSQL cluster on a free port, in a folder of its own under /tmp (pytest's folders are
    private to root, and PostgreSQL runs as the postgres user when the tests run as root)."""
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    assert binaries, "PostgreSQL server binaries missing: apt-get install postgresql (./run.sh test does)"
    bin_dir = Path(binaries[-1]).parent
    data = Path(tempfile.mkdtemp(prefix="evalprep-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()

    def run(*cmd: str) -> None:
        done = subprocess.run([*as_user, *cmd], capture_output=True, text=True)
        assert done.returncode == 0, f"{cmd[0]} failed:\n{done.stdout}\n{done.stderr}"
    run(str(bin_dir / "initdb"), "-D", str(data / "db"), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    run(str(bin_dir / "pg_ctl"), "-D", str(data / "db"), "-l", str(data / "log"), "-w", "start",
        "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1")
    try:
        run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "prefect")
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/prefect"
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data / "db"), "-m", "fast", "stop"],
                       capture_output=True)
        shutil.rmtree(data, ignore_errors=True)


def test_an_inspection_triggered_through_the_api_of_a_postgres_backed_server(postgres, small_county, small_manifest,
                                                                             tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    serving = None
    with prefect_server(tmp_path, 180, PREFECT_API_DATABASE_CONNECTION_URL=postgres) as (api, env):
        try:
            data = tmp_path / "data"
            serve_env = {**env, "PREFECT_API_URL": api, "EVALPREP_DATA_DIR": str(data),
                         "EVALPREP_INBOX": str(small_county / "inbox")}
            serving = started([sys.executable, "-m", "flows.cli", "serve"], serve_env, tmp_path / "serve.log")
            with temporary_settings({PREFECT_API_URL: api}):
                def deployed():
                    with get_client(sync_client=True) as client:
                        return client.read_deployment_by_name("inspection/inspection")
                wait_for(deployed, "deployments served", 180, serving, tmp_path / "serve.log")
                village = sorted(small_manifest["by_week"][LAST_WEEK]["villages"])[2]
                flow_run = run_deployment("inspection/inspection", parameters={"villages": [village]}, timeout=300)
            assert flow_run.state.is_completed(), (flow_run.state, (tmp_path / "serve.log").read_text()[-3000:])
            dossiers = list((data / "out" / f"{LAST_WEEK}-inspection-{village}" / "dossiers").rglob("*.pdf"))
            assert len(dossiers) == 1 and dossiers[0].name.startswith(village)
            text = "".join(page.extract_text() for page in PdfReader(dossiers[0]).pages)
            assert village in text and "村级迎评档案" in text
        finally:
            if serving is not None:
                stop(serving)
