"""A loopback stand-in for the Hugging Face Hub: serves one model repository from a directory.

The model image's download step runs the real ``hf download`` client against it
(``HF_ENDPOINT``), so it answers the calls huggingface_hub makes for a snapshot:

* ``GET /api/models/<repo>/revision/<rev>``: the repository and the commit the revision names;
* ``GET /api/models/<repo>/tree/<commit>``: every file with its size and blob id (large files
  as LFS, with their SHA-256, which the client checks);
* ``HEAD``/``GET /<repo>/resolve/<rev>/<path>``: the file, with the ``X-Repo-Commit``,
  ``ETag`` and ``Content-Length`` headers the client reads before downloading.

Unknown repositories and revisions get the Hub's error codes (``X-Error-Code``), so the
client raises what it would raise against the real Hub. Every request is recorded.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

# Files at least this large are served as LFS objects, as the Hub does for model weights.
LFS_THRESHOLD = 10 * 1024 * 1024


@dataclass(frozen=True)
class RepoFile:
    """One file of the served repository."""

    path: str
    size: int
    blob_id: str  # git blob SHA-1, the Hub's `oid`
    sha256: str

    @property
    def is_lfs(self) -> bool:
        """Whether the Hub would store this file in LFS."""
        return self.size >= LFS_THRESHOLD

    @property
    def etag(self) -> str:
        """The ETag the Hub sends: the LFS SHA-256 for LFS files, the blob id otherwise."""
        return self.sha256 if self.is_lfs else self.blob_id

    def tree_entry(self) -> dict[str, Any]:
        """The file as ``/api/models/<repo>/tree/<commit>`` lists it."""
        entry: dict[str, Any] = {
            "type": "file",
            "oid": self.blob_id,
            "size": self.size,
            "path": self.path,
        }
        if self.is_lfs:
            entry["lfs"] = {"oid": self.sha256, "size": self.size, "pointerSize": 134}
        return entry


def scan(directory: Path) -> dict[str, RepoFile]:
    """Every file under ``directory`` by repository path (``1_Pooling/config.json``)."""
    files = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        data = path.read_bytes()
        blob_id = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False)
        rel = path.relative_to(directory).as_posix()
        files[rel] = RepoFile(rel, len(data), blob_id.hexdigest(), hashlib.sha256(data).hexdigest())
    return files


@dataclass
class Hub:
    """What the server serves and what it was asked."""

    repo_id: str
    directory: Path
    revision: str = "main"
    commit: str = "0123456789abcdef0123456789abcdef01234567"
    files: dict[str, RepoFile] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.files = scan(self.directory)

    def downloads(self) -> list[str]:
        """Paths of the files whose bodies were sent (GET on /resolve/)."""
        marker = f"/{self.repo_id}/resolve/"
        return [r.split(marker, 1)[1] for r in self.requests if r.startswith(f"GET {marker}")]


class _Handler(BaseHTTPRequestHandler):
    server: _HubServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: requests are recorded on the Hub instead."""

    def do_GET(self) -> None:
        self._dispatch(send_body=True)

    def do_HEAD(self) -> None:
        self._dispatch(send_body=False)

    def _dispatch(self, *, send_body: bool) -> None:
        hub = self.server.hub
        path = unquote(urlsplit(self.path).path)
        with hub.lock:
            hub.requests.append(f"{self.command} {path}")
        api_prefix = f"/api/models/{hub.repo_id}/"
        resolve_prefix = f"/{hub.repo_id}/resolve/"
        if path.startswith(api_prefix + "revision/"):
            self._revision(path.removeprefix(api_prefix + "revision/"), send_body=send_body)
        elif path.startswith(api_prefix + "tree/"):
            self._tree(path.removeprefix(api_prefix + "tree/"), send_body=send_body)
        elif path.startswith(resolve_prefix):
            revision, _, rel = path.removeprefix(resolve_prefix).partition("/")
            self._resolve(revision, rel, send_body=send_body)
        else:
            self._error(404, "RepoNotFound", f"Repository not found: {path}")

    def _known_revision(self, revision: str) -> bool:
        hub = self.server.hub
        return revision in {hub.revision, hub.commit}

    def _revision(self, revision: str, *, send_body: bool) -> None:
        hub = self.server.hub
        if not self._known_revision(revision):
            self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            return
        body = {
            "_id": "stand-in",
            "id": hub.repo_id,
            "modelId": hub.repo_id,
            "sha": hub.commit,
            "private": False,
            "gated": False,
            "disabled": False,
            "tags": ["sentence-transformers"],
            "library_name": "sentence-transformers",
            "siblings": [{"rfilename": rel} for rel in hub.files],
        }
        self._json(body, send_body=send_body)

    def _tree(self, revision_and_path: str, *, send_body: bool) -> None:
        hub = self.server.hub
        revision, _, prefix = revision_and_path.partition("/")
        if not self._known_revision(revision):
            self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            return
        entries = [f.tree_entry() for rel, f in hub.files.items() if rel.startswith(prefix)]
        self._json(entries, send_body=send_body)

    def _resolve(self, revision: str, rel: str, *, send_body: bool) -> None:
        hub = self.server.hub
        if not self._known_revision(revision):
            self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            return
        repo_file = hub.files.get(rel)
        if repo_file is None:
            self._error(404, "EntryNotFound", f"Entry not found: {rel}")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(repo_file.size))
        self.send_header("ETag", f'"{repo_file.etag}"')
        self.send_header("X-Repo-Commit", hub.commit)
        self.end_headers()
        if send_body:
            self.wfile.write((hub.directory / rel).read_bytes())

    def _json(self, body: Any, *, send_body: bool) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if send_body:
            self.wfile.write(data)

    def _error(self, status: int, code: str, message: str) -> None:
        data = json.dumps({"error": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


class _HubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, hub: Hub, host: str) -> None:
        super().__init__((host, 0), _Handler)
        self.hub = hub


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[str]:
    """Run ``server`` in a thread while the block runs; yield its base URL."""
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="loopback-server", daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def serve_hub(hub: Hub, host: str = "127.0.0.1") -> contextlib.AbstractContextManager[str]:
    """Serve ``hub`` on a free port of ``host``; yield its base URL (the ``HF_ENDPOINT``)."""
    return serving(_HubServer(hub, host))
