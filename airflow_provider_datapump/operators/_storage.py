"""How the fetch writes into each kind of store: the one place that decides it.

A store is recognised by the fsspec filesystem class that Airflow's ObjectStoragePath resolved
(s3fs behind the Amazon provider, gcsfs behind Google's, adlfs behind Microsoft Azure's), not by
the URL scheme: ``s3://`` to MinIO or Ceph is still S3's multipart protocol, and a scheme a
provider maps to another filesystem gets that filesystem's rules.

========================  ==========================================  ===============================  ========
store (fsspec class)      what the store guarantees                   how a failed upload is undone    strategy
========================  ==========================================  ===============================  ========
S3 (s3fs)                 an object appears only when PutObject or    AbortMultipartUpload (fsspec's   direct
                          CompleteMultipartUpload succeeds            ``discard``)
GCS (gcsfs)               a resumable upload appears only when its    the session is cancelled         direct
                          last chunk is sent                          (``discard``: DELETE on it)
Azure Blob (adlfs)        a block blob appears only when its block    Delete Blob on the name, which   direct
                          list is committed (adlfs commits it when    removes the staged blocks, only
                          the file is closed)                         when no committed blob is there;
                                                                      beside a committed blob (an
                                                                      overwrite) the blocks stay
                                                                      uncommitted, invisible, until
                                                                      Azure drops them (7 days) or the
                                                                      next upload commits
local, NFS, SFTP, any     bytes are visible as they are written       a temporary name is removed      rename
other                                                                 (``mv`` renames where the store
                                                                      has a rename, else copies)
========================  ==========================================  ===============================  ========

``direct`` writes to the final name with ``autocommit=False`` and commits only after the byte
count and SHA-256 checks pass; ``rename`` writes a hidden temporary name and moves it.

Memory: a transfer queues up to one part while the previous one is sent (``DirectUpload``), the
fsspec file buffers one part, and the store library copies what it sends, so a transfer holds
about three parts, and with allocator slack about five were measured (README, Performance):
``max_parallel`` x 5 x part size in all.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["RENAME", "DirectUpload", "StorePolicy", "open_direct", "policy_for"]

MiB = 1 << 20
GiB = 1 << 30
TiB = 1 << 40


@dataclass(frozen=True)
class StorePolicy:
    """What one store guarantees, and the part sizes its upload protocol accepts."""

    name: str
    direct: bool
    # The part (S3), chunk (GCS) or block (Azure) size used when the file fits with it.
    default_part: int = 0
    max_parts: int | None = None
    max_part: int | None = None
    max_object: int | None = None
    part_multiple: int = MiB
    # Run after a discarded upload, for a store whose abort leaves something behind.
    drop_staged: Callable[[Any], None] | None = None

    def part_size(self, length: int | None) -> int:
        """The part size for a file of ``length`` bytes: the default, or larger when the part limit needs it."""
        part = self.default_part
        if length is not None and self.max_parts:
            needed = math.ceil(length / self.max_parts)
            part = max(part, math.ceil(needed / self.part_multiple) * self.part_multiple)
        if self.max_part:
            part = min(part, self.max_part)
        return part

    def too_big(self, length: int | None) -> str | None:
        """Why a file of ``length`` bytes cannot be stored, or None."""
        if length is None or self.max_object is None or length <= self.max_object:
            return None
        return f"{length} bytes is over {self.name}'s object size limit of {self.max_object} bytes"


def _azure_drop_staged(out: Any) -> None:
    """Delete the blocks a failed upload staged, when no committed blob is at that name.

    Delete Blob on a name that holds only uncommitted blocks removes them (AzCopy cleans up a
    failed upload this way, under the same condition). With a committed blob there, the only calls
    that drop staged blocks are Delete Blob (which deletes that blob) and Put Block List or Put Blob
    (which rewrite it), so its blocks are left to Azure's 7-day expiry or the next upload's commit.
    Azure has no condition that makes the check and the delete one step: a blob another writer
    commits at the same name in between would be deleted, so do not point two writers at one name.
    """
    from azure.core.exceptions import ResourceNotFoundError
    from fsspec.asyn import sync

    async def drop() -> None:
        async with out.fs.service_client.get_blob_client(out.container_name, out.blob) as blob:
            try:
                await blob.get_blob_properties()
                return  # a committed blob: never touched
            except ResourceNotFoundError:
                pass
            try:
                await blob.delete_blob()
            except ResourceNotFoundError:
                pass  # no block was staged

    sync(out.fs.loop, drop)


# Keyed by the fsspec class (module and name as found in the MRO), so that subclasses match and
# nothing is imported to decide.
_POLICIES: dict[str, StorePolicy] = {
    # 10,000 parts of 5 MiB to 5 GiB, objects up to 5 TiB. 16 MiB parts reach 156 GiB; past that
    # the part grows (5 TiB needs 525 MiB parts).
    "s3fs.core.S3FileSystem": StorePolicy(
        "Amazon S3",
        direct=True,
        default_part=16 * MiB,
        max_parts=10_000,
        max_part=5 * GiB,
        max_object=5 * TiB,
    ),
    # A resumable upload has no chunk count limit; chunks are multiples of 256 KiB. Google
    # recommends at least 8 MiB and says larger chunks are faster, at the cost of memory; 32 MiB
    # (gcsfs's own put_file sends 50 MiB) because a chunk costs gcp-storage-emulator time in
    # proportion to what the session already holds, so gcsfs's own put_file is slower in 16 MiB
    # chunks than in 32 or 50 MiB ones (README, Performance: bench/objstore.py --client-part-mib).
    "gcsfs.core.GCSFileSystem": StorePolicy(
        "Google Cloud Storage",
        direct=True,
        default_part=32 * MiB,
        max_object=5 * TiB,
        part_multiple=256 * 1024,
    ),
    # 50,000 blocks of up to 4000 MiB: 16 MiB blocks reach 781 GiB, and the block grows past that.
    "adlfs.spec.AzureBlobFileSystem": StorePolicy(
        "Azure Blob Storage",
        direct=True,
        default_part=16 * MiB,
        max_parts=50_000,
        max_part=4000 * MiB,
        max_object=50_000 * 4000 * MiB,
        drop_staged=_azure_drop_staged,
    ),
}

RENAME = StorePolicy("a filesystem with rename", direct=False)


def policy_for(fs: object) -> StorePolicy:
    for cls in type(fs).__mro__:
        found = _POLICIES.get(f"{cls.__module__}.{cls.__qualname__}")
        if found is not None:
            return found
    return RENAME


def open_direct(path: object, policy: StorePolicy, part_size: int) -> DirectUpload:
    """Open the final object for writing without committing it: see :class:`DirectUpload`."""
    fs = path.fs  # type: ignore[attr-defined]
    out = fs.open(path.path, "wb", block_size=part_size, autocommit=False)  # type: ignore[attr-defined]
    # fsspec keeps every non-autocommit file on the filesystem's transaction, for a
    # ``with fs.transaction`` that is not used here; left there, each would pin its buffer.
    _forget(fs, out)
    return DirectUpload(out, policy, part_size)


class DirectUpload:
    """One upload straight to the final object, sent by a thread of its own.

    The fsspec file sends a part inside ``write`` once its buffer is full, and nothing reads the
    download while it waits for the store. Here the caller's chunks go through a queue holding at
    most one part, so the next part is downloaded while the previous one is sent; that queue, the
    fsspec buffer and the copy the library takes while sending bound a transfer at about three
    parts. ``commit`` completes the upload after everything queued is sent; ``discard`` abandons it.
    """

    def __init__(self, out: Any, policy: StorePolicy, part_size: int) -> None:
        self._out = out
        self._policy = policy
        self._limit = max(part_size, 1)
        self._chunks: deque[bytes] = deque()
        self._held = 0
        self._closing = self._stopping = False
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._send, name="dp-upload", daemon=True)
        self._thread.start()

    def write(self, chunk: bytes) -> None:
        """Queue ``chunk`` (which must not change afterwards); waits while a part is already queued."""
        with self._cond:
            while self._held and self._held + len(chunk) > self._limit and self._error is None:
                self._cond.wait()
            if self._error is not None:
                raise self._error
            self._chunks.append(chunk)
            self._held += len(chunk)
            self._cond.notify_all()

    def _send(self) -> None:
        try:
            while True:
                with self._cond:
                    while not self._chunks and not self._closing and not self._stopping:
                        self._cond.wait()
                    if self._stopping or not self._chunks:
                        return
                    chunk = self._chunks.popleft()
                    self._held -= len(chunk)
                    self._cond.notify_all()
                self._out.write(chunk)  # sends a part when the buffer is full
        except BaseException as err:
            with self._cond:
                self._error = err
                self._chunks.clear()
                self._held = 0
                self._cond.notify_all()

    def commit(self) -> None:
        """Send what is queued and buffered, then make the object visible.

        With ``autocommit`` turned on before ``close``, the last part completes the upload: S3
        sends it and completes the multipart upload, GCS sends it with the object's total size
        (one request, not a chunk then an empty completion), adlfs stages it and commits the
        block list (which adlfs does on close whatever ``autocommit`` says).
        """
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join()
        if self._error is not None:
            raise self._error
        self._out.autocommit = True
        self._out.close()

    def discard(self) -> None:
        """Abandon the upload: S3 aborts the multipart upload, GCS cancels the resumable session,
        Azure deletes the staged blocks where no committed blob holds the name (see the table)."""
        with self._cond:
            self._stopping = True
            self._chunks.clear()
            self._held = 0
            self._cond.notify_all()
        # A part being sent is let finish: aborting under it could leave that part behind.
        self._thread.join()
        try:
            self._out.discard()
        finally:
            # Marked closed whatever happened, so that no finalizer ever closes (and, on Azure,
            # commits) what was discarded.
            self._out.closed = True
        if self._policy.drop_staged is not None:
            self._policy.drop_staged(self._out)


def _forget(fs: object, out: object) -> None:
    transaction = getattr(fs, "_transaction", None)
    files = getattr(transaction, "files", None)
    if files is not None:
        try:
            files.remove(out)
        except ValueError:
            pass
