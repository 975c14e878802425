"""_storage.DirectUpload: the next part is read while the previous one is sent, memory stays at one
queued part, and a failure on either side abandons the upload.

The fsspec file here is a stand-in whose part sends block on an Event, so that a part can be held
"in flight" for as long as the test needs: no store server lets a test pause a request midway.
The same class runs against real S3, GCS and Azure servers in tests/operators/test_fetch_objstore.py.
"""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from airflow_provider_datapump.operators import _storage

PART = 4


class HeldFile:
    """Buffers like fsspec's AbstractBufferedFile and "sends" a full buffer only when allowed."""

    def __init__(self, fail_on_send: bool = False) -> None:
        self.buffer = b""
        self.sent: list[bytes] = []
        self.sending = threading.Event()
        self.release = threading.Event()
        self.fail_on_send = fail_on_send
        self.autocommit = False
        self.closed = False
        self.completed = self.discarded = False

    def write(self, data: bytes) -> int:
        self.buffer += data
        if len(self.buffer) >= PART:
            self.sending.set()
            assert self.release.wait(10)
            if self.fail_on_send:
                raise ConnectionError("the store hung up")
            self.sent.append(self.buffer)
            self.buffer = b""
        return len(data)

    def close(self) -> None:
        if self.buffer:
            self.sent.append(self.buffer)
        self.completed = self.autocommit
        self.closed = True

    def discard(self) -> None:
        self.discarded = True


def _writer(upload: _storage.DirectUpload, chunks: list[bytes], done: list[bytes]) -> threading.Thread:
    def run() -> None:
        for c in chunks:
            upload.write(c)
            done.append(c)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_the_next_part_is_read_while_one_is_sent_and_no_more():
    out = HeldFile()
    upload = _storage.DirectUpload(out, _storage.RENAME, PART)
    chunks = [bytes([i]) * 2 for i in range(6)]  # three parts of two chunks
    done: list[bytes] = []
    t = _writer(upload, chunks, done)

    assert out.sending.wait(5)  # the first part is being sent...
    time.sleep(0.2)
    # ...and the writer went on: the next part (two chunks) is queued, the one after is held back.
    assert done == chunks[:4]
    assert t.is_alive()

    out.release.set()
    t.join(5)
    upload.commit()
    assert b"".join(out.sent) == b"".join(chunks) and out.completed


def test_a_failed_send_fails_the_writer_and_nothing_completes():
    out = HeldFile(fail_on_send=True)
    upload = _storage.DirectUpload(out, _storage.RENAME, PART)
    out.release.set()
    with pytest.raises(ConnectionError, match="hung up"):
        for _ in range(10):
            upload.write(b"xx")
            time.sleep(0.01)
    with pytest.raises(ConnectionError):
        upload.commit()
    assert not out.completed
    upload.discard()
    assert out.discarded and out.closed


def test_discard_lets_the_part_in_flight_finish_then_aborts_and_cleans_up():
    out = HeldFile()
    cleaned: list[object] = []
    policy = dataclasses.replace(_storage.RENAME, drop_staged=cleaned.append)
    upload = _storage.DirectUpload(out, policy, PART)
    upload.write(b"abcd")
    assert out.sending.wait(5)
    upload.write(b"ef")  # queued behind the part in flight; never sent

    threading.Timer(0.2, out.release.set).start()
    upload.discard()

    assert out.sent == [b"abcd"]  # the part in flight finished; the queued chunk was dropped
    assert out.discarded and out.closed and not out.completed
    assert cleaned == [out]
