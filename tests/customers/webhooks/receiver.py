"""A real webhook receiver for tests: an http.server thread on 127.0.0.1 (ports 8120-8129) that
checks every request with docs/examples/webhook_receiver.py's verify_signature and answers the
status codes a test scripts (200 once the script is used up)."""
from __future__ import annotations

import importlib.util
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "docs" / "examples" / "webhook_receiver.py"
_spec = importlib.util.spec_from_file_location("webhook_receiver", SCRIPT)
receiver_script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(receiver_script)


@dataclass
class Received:
    headers: object  # http.client.HTTPMessage: case-insensitive lookups
    body: bytes
    problem: str | None  # None: signature and timestamp verified

    @property
    def document(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    secret: str
    codes: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def handler(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                problem = receiver_script.verify_signature(
                    secret=outer.secret, timestamp=self.headers.get("X-CLM-Timestamp"), signature=self.headers.get("X-CLM-Signature"), body=body)
                outer.received.append(Received(self.headers, body, problem))
                code = outer.codes.pop(0) if outer.codes else (400 if problem else 200)
                self.send_response(code)
                if code in (301, 302):
                    self.send_header("Location", "http://127.0.0.1:1/elsewhere")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler


def start_receiver(secret: str) -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver(secret=secret)
    for port in range(8120, 8130):
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), receiver.handler())
            break
        except OSError:
            continue
    else:
        raise RuntimeError("no free port in 8120-8129 for the test receiver")
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server
