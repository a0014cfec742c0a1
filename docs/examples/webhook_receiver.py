#!/usr/bin/env python3
"""A minimal receiver of the platform's webhooks: verifies each POST's signature and timestamp.

Standard library only, so anyone can run it:

    python docs/examples/webhook_receiver.py --secret whsec_... --port 8125

Each delivery carries
    X-CLM-Timestamp: <unix seconds of this attempt>
    X-CLM-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>
    X-CLM-Event, X-CLM-Delivery (the delivery id; the body's "id" is the event id, for de-duplication)
A request is accepted (204) only when the signature matches and the timestamp is within
--tolerance seconds of now, so a captured request replayed later is refused (400).
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def verify_signature(*, secret: str, timestamp: str, signature: str, body: bytes, tolerance: int = 300, now: float | None = None) -> str | None:
    """None when the request is genuine and fresh; otherwise the reason it is refused."""
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return "missing or malformed timestamp"
    if abs((time.time() if now is None else now) - sent_at) > tolerance:
        return "timestamp outside the tolerance window (replay?)"
    expected = "v1=" + hmac.new(secret.encode(), f"{sent_at}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature or ""):
        return "signature mismatch"
    return None


def handler_for(secret: str, tolerance: int, log=print):
    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server hook name
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            problem = verify_signature(secret=secret, timestamp=self.headers.get("X-CLM-Timestamp"),
                                       signature=self.headers.get("X-CLM-Signature"), body=body, tolerance=tolerance)
            if problem:
                log(f"REFUSED {self.headers.get('X-CLM-Event')} delivery {self.headers.get('X-CLM-Delivery')}: {problem}")
                self.send_response(400)
            else:
                event = json.loads(body)
                log(f"VERIFIED {event['event']} event {event['id']} delivery {self.headers.get('X-CLM-Delivery')}: {json.dumps(event['data'])[:400]}")
                self.send_response(204)
            self.end_headers()

        def log_message(self, *args):  # one line per delivery is printed above instead
            pass

    return Receiver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secret", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8125)
    parser.add_argument("--tolerance", type=int, default=300, help="seconds a timestamp may differ from now")
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), handler_for(args.secret, args.tolerance, log=lambda line: print(line, flush=True)))
    print(f"listening on http://{args.host}:{args.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
