"""The embedded broker: kombu's filesystem transport, with messages that appear whole.

kombu writes a message straight into its final file name, so a worker polling the folder can
move and read a file its producer has created but not yet written: an empty payload, and the
worker stops ("Unrecoverable error: JSONDecodeError"), as a browser journey found. Here a message
is written under a name no consumer looks at and renamed into place, which is atomic on one
file system. `filesystem://` resolves to this transport once clmsite.celery is imported.
"""
from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.part")  # consumers only take "*.<queue>.msg"
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES["filesystem"] = "clmsite.broker:Transport"
