"""The embedded broker writes each message under a hidden name and renames it into place."""
from __future__ import annotations

import os
from queue import Empty

import pytest
from kombu import Connection

from clmsite.broker import Transport


def test_filesystem_url_resolves_to_the_atomic_transport_and_round_trips(tmp_path):
    # given the filesystem:// URL, when a message is put and got, then our transport carries it whole and no partial file is left
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path), "control_folder": str(tmp_path / "control")}
    with Connection("filesystem://", transport_options=options) as conn:
        assert isinstance(conn.transport, Transport)
        queue = conn.SimpleQueue("jobs")
        queue.put({"job": 7})
        assert [name for name in os.listdir(tmp_path) if name.endswith(".part")] == []
        message = queue.get(timeout=2)
        assert message.payload == {"job": 7}
        message.ack()
        queue.close()


def test_a_consumer_never_takes_a_message_still_being_written(tmp_path):
    # given a half-written file under the hidden name, when a consumer polls, then it skips it (the old transport read it empty and crashed)
    (tmp_path / ".123_x.jobs.msg.part").write_bytes(b"")
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path), "control_folder": str(tmp_path / "control")}
    with Connection("filesystem://", transport_options=options) as conn:
        with pytest.raises(Empty):
            conn.channel()._get("jobs")
