"""`evalprep serve-files`: the output folder over http (the standard library's server), so that the Prefect
UI's "documents" link (EVALPREP_PUBLIC_URL) opens in a browser. Read only; hidden entries (staging folders,
the document store, lock files) are never served."""
from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


class OutputHandler(SimpleHTTPRequestHandler):
    """Files and folder listings under the output folder, nothing whose path has a part starting with a dot."""

    def send_head(self):  # type: ignore[override]
        parts = unquote(urlsplit(self.path).path).split("/")
        if any(part.startswith(".") for part in parts if part):
            self.send_error(404, "Not found")
            return None
        return super().send_head()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002  (quiet: no per-request lines)
        pass


def file_server(folder: Path, bind: str, port: int) -> ThreadingHTTPServer:
    """A server for `folder` at bind:port (port 0: any free one); the caller runs serve_forever."""
    handler = functools.partial(OutputHandler, directory=str(folder))
    return ThreadingHTTPServer((bind, port), handler)
