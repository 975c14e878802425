"""gcp-storage-emulator, plus the one call of the GCS JSON API that gcsfs needs and it lacks.

GCS cancels a resumable upload on ``DELETE`` to its session URI: the session and the bytes it
received are dropped, and the answer is 499 (https://cloud.google.com/storage/docs/performing-resumable-uploads).
gcsfs's ``discard()`` sends exactly that. The emulator answers 501 to it, which gcsfs retries for
about half a minute and then raises, and it keeps the session. This adds the route, using the
emulator's own storage calls, and runs the emulator's command line otherwise unchanged.

    python tests/gcs_emulator.py start -H 127.0.0.1 --port 9023
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from gcp_storage_emulator import server, settings
from gcp_storage_emulator.exceptions import NotFound
from gcp_storage_emulator.storage import RESUMABLE_DIR


@dataclass(frozen=True)
class _Status:  # what the emulator's response object reads from an http.HTTPStatus
    value: int
    phrase: str


CLIENT_CLOSED = _Status(499, "Client Closed Request")


def cancel_resumable(request, response, storage) -> None:
    upload_id = (request.query.get("upload_id") or [""])[0]
    try:
        storage.delete_resumable_file_obj(upload_id)
    except NotFound:
        response.status = _Status(404, "Not Found")
        return
    try:
        storage._delete_file(RESUMABLE_DIR, storage.safe_id(upload_id))
    except Exception:  # no chunk was received yet
        pass
    storage._write_config_to_file()
    response.status = CLIENT_CLOSED


def install() -> None:
    upload = f"^{settings.UPLOAD_API_ENDPOINT}/b/"
    for regex, handlers in server.HANDLERS:
        if regex.startswith(upload) and regex.endswith("/o$"):
            handlers[server.DELETE] = cancel_resumable
            return
    raise RuntimeError("gcp-storage-emulator's upload route was not found; its layout changed")


if __name__ == "__main__":
    install()
    from gcp_storage_emulator.__main__ import main

    main(sys.argv[1:])
