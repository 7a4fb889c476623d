"""A loopback stand-in for the OSV advisory API, which `uv audit` asks (`--service-url`).

It answers the two calls uv makes, as api.osv.dev does:

* ``POST /v1/querybatch`` with ``{"queries": [{"package": {"name", "ecosystem"}, "version"}]}``:
  one result per query, in order, each ``{"vulns": [{"id", "modified"}]}`` or ``{}``;
* ``GET /v1/vulns/<id>``: the advisory record (summary, aliases, affected ranges).

Advisories are given as OSV records; a package version is affected when a range of the record
has it at or after ``introduced`` and before ``fixed``. Every request is recorded.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hub_standin import serving
from packaging.version import Version


@dataclass
class Advisories:
    """The OSV records the stand-in serves, and the requests it got."""

    records: list[dict[str, Any]]
    requests: list[tuple[str, str]] = field(default_factory=list)

    def affecting(self, name: str, version: str) -> list[dict[str, Any]]:
        """The records whose PyPI ranges contain this version of this package."""
        found = []
        for record in self.records:
            for affected in record["affected"]:
                if affected["package"] != {"ecosystem": "PyPI", "name": name}:
                    continue
                if any(_in_range(version, r["events"]) for r in affected["ranges"]):
                    found.append(record)
        return found

    def record(self, vuln_id: str) -> dict[str, Any] | None:
        return next((r for r in self.records if r["id"] == vuln_id), None)


def _in_range(version: str, events: list[dict[str, str]]) -> bool:
    introduced = next(e["introduced"] for e in events if "introduced" in e)
    fixed = next((e["fixed"] for e in events if "fixed" in e), None)
    low = Version("0") if introduced == "0" else Version(introduced)
    return low <= Version(version) and (fixed is None or Version(version) < Version(fixed))


class _Handler(BaseHTTPRequestHandler):
    server: _OsvServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.server.advisories.requests.append(("POST", self.path))
        if self.path != "/v1/querybatch":
            self._send(404, {"code": 5, "message": "Not Found"})
            return
        queries = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["queries"]
        results = []
        for query in queries:
            package = query["package"]
            assert package["ecosystem"] == "PyPI", package
            records = self.server.advisories.affecting(package["name"], query["version"])
            vulns = [{"id": r["id"], "modified": r["modified"]} for r in records]
            results.append({"vulns": vulns} if vulns else {})
        self._send(200, {"results": results})

    def do_GET(self) -> None:
        self.server.advisories.requests.append(("GET", self.path))
        record = self.server.advisories.record(self.path.removeprefix("/v1/vulns/"))
        if not self.path.startswith("/v1/vulns/") or record is None:
            self._send(404, {"code": 5, "message": "Bug not found."})
            return
        self._send(200, record)


class _OsvServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, advisories: Advisories, host: str) -> None:
        super().__init__((host, 0), _Handler)
        self.advisories = advisories


def serve_osv(
    advisories: Advisories, host: str = "127.0.0.1"
) -> contextlib.AbstractContextManager[str]:
    """Serve the advisories on a free port of ``host``; yield the base URL (``--service-url``)."""
    return serving(_OsvServer(advisories, host))
