"""docs/examples/webhook_receiver.py: accepts genuine fresh requests, refuses tampered or replayed ones."""
from __future__ import annotations

from customers.webhooks.services import webhook_signature
from tests.customers.webhooks.receiver import receiver_script

BODY = b'{"event":"import.finished"}'


def test_a_genuine_fresh_request_verifies():
    # given a body signed with the platform's signature function now, when the script verifies it, then it is accepted
    assert receiver_script.verify_signature(secret="s", timestamp="1000", signature=webhook_signature(secret="s", timestamp=1000, body=BODY), body=BODY, now=1010) is None


def test_tampered_bodies_wrong_secrets_and_replays_are_refused():
    # given a valid signature, when the body, the secret or the clock differ, then each is refused with its reason
    good = webhook_signature(secret="s", timestamp=1000, body=BODY)
    assert receiver_script.verify_signature(secret="s", timestamp="1000", signature=good, body=BODY + b" ", now=1000) == "signature mismatch"
    assert receiver_script.verify_signature(secret="t", timestamp="1000", signature=good, body=BODY, now=1000) == "signature mismatch"
    assert "replay" in receiver_script.verify_signature(secret="s", timestamp="1000", signature=good, body=BODY, now=1000 + 301)
    assert receiver_script.verify_signature(secret="s", timestamp="1001", signature=good, body=BODY, now=1001) == "signature mismatch"
    assert receiver_script.verify_signature(secret="s", timestamp=None, signature=good, body=BODY) == "missing or malformed timestamp"
