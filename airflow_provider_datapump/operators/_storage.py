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
Azure Blob (adlfs)        a block blob appears only when its block    staged blocks stay uncommitted,  direct
                          list is committed (adlfs commits it when    invisible; Azure drops them
                          the file is closed)                         after 7 days (no API deletes
                                                                      them sooner)
local, NFS, SFTP, any     bytes are visible as they are written       a temporary name is removed      rename
other                                                                 (``mv`` renames where the store
                                                                      has a rename, else copies)
========================  ==========================================  ===============================  ========

``direct`` writes to the final name with ``autocommit=False`` and commits only after the byte
count and SHA-256 checks pass; ``rename`` writes a hidden temporary name and moves it.

Memory: each open upload buffers one part, and s3fs and adlfs copy the buffer as they send it, so
a transfer holds up to about two parts: ``max_parallel`` x 2 x part size in all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["RENAME", "StorePolicy", "commit", "discard", "open_direct", "policy_for"]

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
    # A resumable upload has no chunk count limit; chunks are multiples of 256 KiB.
    "gcsfs.core.GCSFileSystem": StorePolicy(
        "Google Cloud Storage",
        direct=True,
        default_part=16 * MiB,
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
    ),
}

RENAME = StorePolicy("a filesystem with rename", direct=False)


def policy_for(fs: object) -> StorePolicy:
    for cls in type(fs).__mro__:
        found = _POLICIES.get(f"{cls.__module__}.{cls.__qualname__}")
        if found is not None:
            return found
    return RENAME


def open_direct(path: object, part_size: int) -> Any:
    """Open the final object for writing without committing it: see ``commit`` and ``discard``."""
    fs = path.fs  # type: ignore[attr-defined]
    out = fs.open(path.path, "wb", block_size=part_size, autocommit=False)  # type: ignore[attr-defined]
    # fsspec keeps every non-autocommit file on the filesystem's transaction, for a
    # ``with fs.transaction`` that is not used here; left there, each would pin its buffer.
    _forget(fs, out)
    return out


def commit(out: object) -> None:
    """Send what is buffered, then make the object visible.

    s3fs and gcsfs upload the last part on close and complete on ``commit()``; adlfs commits its
    block list on close and its ``commit()`` does nothing. Either way nothing is visible before.
    """
    out.close()  # type: ignore[attr-defined]
    out.commit()  # type: ignore[attr-defined]


def discard(out: object) -> None:
    """Abandon the upload: S3 aborts the multipart upload, GCS cancels the resumable session."""
    try:
        out.discard()  # type: ignore[attr-defined]
    finally:
        # Marked closed whatever happened, so that no finalizer ever closes (and, on Azure,
        # commits) what was discarded.
        out.closed = True  # type: ignore[attr-defined]


def _forget(fs: object, out: object) -> None:
    transaction = getattr(fs, "_transaction", None)
    files = getattr(transaction, "files", None)
    if files is not None:
        try:
            files.remove(out)
        except ValueError:
            pass
