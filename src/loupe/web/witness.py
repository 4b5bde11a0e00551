"""The witness's HTTP endpoint: C2SP ``tlog-witness`` ``POST /add-checkpoint``.

A standard-library server (no FastAPI: a witness is tiny and meant to run anywhere).
Status codes follow the spec: 200 with cosignature lines; 400 malformed request; 403 no
trusted log signature; 404 unknown log; 409 stale old size (body: the witness's size, as
``text/x.tlog.size``) or a split view; 422 a consistency proof that does not verify.

Example (port 0 picks a free port; the server is listening once it is built)::

    server = witness_server(Witness(path), host="127.0.0.1", port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from loupe.errors import Conflict, InvalidInput, LoupeError
from loupe.ledger.witness import MAX_PROOF_LINES, Witness, parse_add_checkpoint

__all__ = ["witness_server"]

#: Generous for a note with many signatures plus 63 proof lines.
MAX_BODY = 64 * 1024 + MAX_PROOF_LINES * 50


def _status(exc: LoupeError) -> int:
    if isinstance(exc, InvalidInput) and exc.details.get("reason") == "bad_request":
        return 400
    return exc.http_status


def witness_server(witness: Witness, *, host: str, port: int) -> ThreadingHTTPServer:
    """A bound (listening) HTTP server for ``witness``; call ``serve_forever`` to run it."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "loupe-witness"

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/add-checkpoint":
                self._reply(404, "text/plain", "not found; POST /add-checkpoint\n")
                return
            declared = self.headers.get("Content-Length") or "0"
            length = int(declared) if declared.isdecimal() and len(declared) < 10 else 0
            if not 0 < length <= MAX_BODY:
                self._reply(400, "text/plain", "a body of 1 to 68 KiB is required\n")
                return
            try:
                request = parse_add_checkpoint(self.rfile.read(length))
                lines = witness.add_checkpoint(
                    old_size=request.old_size, proof=request.proof, note=request.note
                )
            except Conflict as exc:
                if "size" in exc.details:
                    self._reply(409, "text/x.tlog.size", f"{exc.details['size']}\n")
                else:
                    self._reply(409, "text/plain", exc.message + "\n")
                return
            except LoupeError as exc:
                self._reply(_status(exc), "text/plain", exc.message + "\n")
                return
            self._reply(200, "text/plain; charset=utf-8", "".join(lines))

        def _reply(self, status: int, content_type: str, body: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the caller's logs say what it asked for

    return ThreadingHTTPServer((host, port), Handler)
