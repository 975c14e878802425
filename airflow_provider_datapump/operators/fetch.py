"""DataPumpFetchFilesOperator: copy a job's dump set and logs into object storage, verified, or a log into XCom.

Guarantees:
* memory stays bounded: bodies stream in 512 KiB chunks straight into the store's writer (on
  object stores, a few parts per transfer, sized from ``Content-Length``: one part is downloaded
  while the previous one is sent, see ``_storage.DirectUpload``);
* a file at its final path is complete: its length is checked against ``Content-Length`` and its
  SHA-256 computed while streaming before it becomes visible. Object stores whose uploads appear
  only when completed (S3, GCS, Azure Blob) are written once, straight to the final name, and the
  upload is completed after the checks or abandoned on any failure; other filesystems get a
  temporary name that is renamed (see ``_storage`` for the table);
* the manifest ``<job_name>.manifest.json`` is written last, so its presence means the set is complete.
"""

from __future__ import annotations

import hashlib
import io
import json
import queue
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator

from airflow_provider_datapump import __version__
from airflow_provider_datapump.exceptions import DataPumpError, DataPumpTransferError, DataPumpValidationError
from airflow_provider_datapump.hooks.ords.policy import check_file_name, redact_url
from airflow_provider_datapump.jobs import Outcome
from airflow_provider_datapump.operators import _storage

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_provider_datapump.hooks.datapump import DataPumpHook

__all__ = ["DataPumpFetchFilesOperator"]

KINDS = ("dump", "log")
PROGRESS_EVERY = 5.0


class DataPumpFetchFilesOperator(BaseOperator):
    """Fetch a finished job's files.

    :param job: what an export/import operator returned, a job URL, or ``"OWNER,JOB_NAME"``.
    :param files: which kinds to fetch: ``"dump"``, ``"log"`` or both.
    :param destination: an ObjectStoragePath or URL (``file:///backups/dp/{{ ds }}/``,
        ``s3://aws_conn@bucket/prefix/``). None returns the log's text as XCom (logs only).
    :param overwrite: replace existing files. Without it an existing file fails the task, unless
        it has the same size and SHA-256 as the fetched one, in which case it is kept.
    :param max_parallel: files transferred at once.
    :param max_xcom_bytes: the largest log returned as XCom (checked before downloading).
    :param ords_conn_id: the ``ords`` connection (default ``ords_default``).
    :param encoding: the log's text encoding when it is returned as XCom.
    :param hook_params: keyword arguments for :class:`~airflow_provider_datapump.hooks.datapump.DataPumpHook`.
    """

    template_fields: Sequence[str] = ("job", "destination", "ords_conn_id")
    ui_color = "#e7eef6"

    def __init__(
        self,
        *,
        job: Mapping[str, Any] | str,
        files: Sequence[str] | str = KINDS,
        destination: Any = None,
        ords_conn_id: str = "ords_default",
        overwrite: bool = False,
        max_parallel: int = 4,
        max_xcom_bytes: int = 48 * 1024,
        encoding: str = "utf-8",
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        kinds = (files,) if isinstance(files, str) else tuple(files)
        bad = [k for k in kinds if k not in KINDS]
        if bad or not kinds:
            raise DataPumpValidationError("files", f"must name dump and/or log, not {list(kinds)!r}")
        if destination is None and "dump" in kinds:
            raise DataPumpValidationError(
                "files",
                "dumps cannot go to XCom; set destination= to an object-storage URL such as file:///backups/dp/",
            )
        if max_parallel < 1:
            raise DataPumpValidationError("max_parallel", "must be at least 1")
        self.job = job
        self.files = kinds
        self.destination = destination
        self.ords_conn_id = ords_conn_id
        self.overwrite = overwrite
        self.max_parallel = max_parallel
        self.max_xcom_bytes = max_xcom_bytes
        self.encoding = encoding
        self.hook_params = hook_params

    @property
    def hook(self) -> DataPumpHook:
        from airflow_provider_datapump.hooks.datapump import DataPumpHook

        if not hasattr(self, "_hook"):
            self._hook = DataPumpHook(ords_conn_id=self.ords_conn_id, **(self.hook_params or {}))
        return self._hook

    def execute(self, context: Context) -> Any:
        # Made here, not in __init__: an operator is deep-copied and an Event holds a lock.
        self._abort = threading.Event()
        try:
            self._output = self._execute()
            return self._output
        finally:
            if hasattr(self, "_hook"):
                self._hook.close()

    def on_kill(self) -> None:
        # Worker threads check this between chunks, then abandon their uploads or delete their
        # temporary files.
        abort = getattr(self, "_abort", None)
        if abort is not None:
            abort.set()

    def _execute(self) -> Any:
        result = self.hook.resolve(self.job)
        self._job_result = result  # for get_openlineage_facets_on_complete
        outcome = result.verdict.outcome
        if outcome is Outcome.RUNNING:
            raise DataPumpError(
                f"job {result.job.ident} is still running; wait for it (DataPumpJobSensor) before fetching"
            )
        wanted = [f for f in result.files if f["kind"] in self.files]
        for f in wanted:
            check_file_name(f["name"])
        if "dump" in self.files and outcome not in (Outcome.SUCCEEDED, Outcome.SUCCEEDED_WITH_ERRORS):
            raise DataPumpError(
                f"job {result.job.ident} ended {outcome.value} ({result.verdict.message}); its dump set is not "
                "complete, so it is not copied. Fetch files=['log'] to read what went wrong."
            )
        if not wanted:
            raise DataPumpError(f"job {result.job.ident} links no {' or '.join(self.files)} file")
        if (
            "dump" in self.files
            and (result.job.operation or "").upper() == "EXPORT"
            and not any(f["kind"] == "dump" for f in wanted)
        ):
            # A manifest without the dumps would pass for a complete set.
            raise DataPumpError(
                f"export {result.job.ident} links no dump file (dumps written straight to object storage are "
                "not linked by ORDS); fetch files=['log'] or copy the dumps from where the export wrote them"
            )
        if self.destination is None:
            return self._log_to_xcom(result, wanted)
        return self._to_storage(result, wanted)

    # ---------------------------------------------------------------- OpenLineage (optional extra)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Dump files on the server in, their object-storage copies out; see airflow_provider_datapump.lineage."""
        from airflow_provider_datapump import lineage

        output, result = getattr(self, "_output", None), getattr(self, "_job_result", None)
        if not isinstance(output, dict) or result is None:
            return None  # a log returned as XCom: no dataset was copied
        # The directory the export named travels in its result; ORDS's default otherwise.
        directory = self.job.get("datapump_dir") if isinstance(self.job, Mapping) else None
        identity = lineage.database_identity(
            self.ords_conn_id, self.hook.oracle_conn_id, self.hook.settings.base_url
        )
        return lineage.fetch_lineage(
            result.to_xcom(), output["files"], identity, self.hook.settings.base_url, directory
        )

    # ---------------------------------------------------------------- XCom

    def _log_to_xcom(self, result: Any, wanted: list[dict[str, str]]) -> str:
        # The hook decided which log is the job's own (an import links the export's log too).
        log = next((f for f in wanted if f["name"] == result.log_file), wanted[-1])
        sink = _CappedBuffer(self.max_xcom_bytes, log["name"])
        self.hook.stream_file(result.to_xcom(), log["name"], sink)
        return sink.getvalue().decode(self.encoding, errors="replace")

    # ---------------------------------------------------------------- object storage

    def _to_storage(self, result: Any, wanted: list[dict[str, str]]) -> dict[str, Any]:
        from airflow.sdk import ObjectStoragePath

        dest = (
            self.destination
            if isinstance(self.destination, ObjectStoragePath)
            else ObjectStoragePath(str(self.destination))
        )
        # Checked before any transfer: failing on it after copying every file would waste them all.
        manifest_name = check_file_name(f"{result.job.job_name}.manifest.json")
        if dest.protocol in ("file", "local", ""):
            dest.mkdir(parents=True, exist_ok=True)
        job = result.to_xcom()
        # Worker threads share the hook; build its lazy parts here so that they only read them.
        hook = self.hook
        _ = hook.settings, hook.links, hook.client
        with ThreadPoolExecutor(
            max_workers=min(self.max_parallel, len(wanted)), thread_name_prefix="dp-fetch"
        ) as pool:
            futures = [pool.submit(self._copy, job, f, dest) for f in wanted]
            try:
                wait(futures, return_when=FIRST_EXCEPTION)
                failed = next(
                    (fut for fut in futures if fut.done() and not fut.cancelled() and fut.exception()), None
                )
                if failed is not None:
                    raise failed.exception()  # type: ignore[misc]
                copied = [fut.result() for fut in futures]
            except BaseException:
                # Stop the other transfers instead of letting them run to the end for nothing;
                # each one abandons its upload or deletes its temporary file.
                self._abort.set()
                for fut in futures:
                    fut.cancel()
                raise
        manifest = {
            "format": "airflow-provider-datapump/manifest/1",
            "provider_version": __version__,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "ords_base_url": redact_url(hook.settings.base_url),
            "job": {
                **{
                    k: job.get(k)
                    for k in ("owner_name", "job_name", "operation", "job_mode", "outcome", "message")
                },
                "self_url": redact_url(job.get("self_url")),
            },
            "files": copied,
            "objects": result.objects_json(),  # every object: XCom's copy may be cut short
        }
        manifest_path = dest / manifest_name
        body = json.dumps(manifest, indent=2).encode()
        policy = _storage.policy_for(manifest_path.fs)
        if policy.direct:
            upload = _storage.open_direct(manifest_path, policy, policy.part_size(len(body)))
            try:
                upload.write(body)
                upload.commit()
            except BaseException:
                _discard(upload, self.log, manifest_path)
                raise
        else:
            tmp = dest / _temp_name(manifest_name)
            try:
                with tmp.open("wb") as out:
                    out.write(body)
                _move(tmp, manifest_path)
            except BaseException:
                _remove_quietly(tmp, self.log)
                raise
        self.log.info("Wrote %d file(s) and the manifest %s", len(copied), manifest_path)
        return {"manifest": str(manifest_path), "files": copied}

    def _copy(self, job: dict[str, Any], f: Mapping[str, str], dest: ObjectStoragePath) -> dict[str, Any]:
        name = check_file_name(f["name"])
        final = dest / name
        existing = _existing_size(final)
        # Without overwrite, an existing file is only compared: the fetched bytes are hashed and
        # never written, so that file is not touched whatever the outcome.
        compare = existing is not None and not self.overwrite
        if compare:
            self.log.info("%s exists (%d bytes); fetching to compare before deciding", final, existing)
        policy = _storage.policy_for(final.fs)
        parts: list[_HashingWriter] = []

        def open_part() -> _HashingWriter:
            # The hook calls this once per attempt: each attempt starts a fresh upload (or
            # temporary file), and the broken one is abandoned first.
            for old in parts:
                old.discard()
            if self._abort.is_set():
                raise _Cancelled(f"{name}: transfer cancelled")
            if compare:
                part = _HashingWriter(None, name, self.log, self._abort, existing=(final, existing))
            elif policy.direct:
                part = _HashingWriter(final, name, self.log, self._abort, policy=policy)
            else:
                part = _HashingWriter(dest / _temp_name(name), name, self.log, self._abort)
            parts.append(part)
            return part

        try:
            size = self.hook.stream_file(job, name, open_part)
            part = parts[-1]
            # Only hashing ends here; on a direct upload, closing is completing, which waits for the checks.
            digest = part.sha256.hexdigest()
            if part.bytes != size:
                raise DataPumpTransferError(
                    f"{name}: wrote {part.bytes} bytes but the transfer counted {size}"
                )
            if compare:
                if _sha256_of(final) == (size, digest):
                    self.log.info(
                        "%s already holds the same %d bytes (sha256 %s); kept it", final, size, digest
                    )
                    return _entry(name, f["kind"], final, size, digest, skipped=True)
                raise DataPumpError(_differs(final))
            part.commit(final)
            self.log.info("Fetched %s: %d bytes, sha256 %s", final, size, digest)
            return _entry(name, f["kind"], final, size, digest)
        except BaseException:
            for part in parts:
                part.discard()
            raise


def _entry(name: str, kind: str, path: Any, size: int, digest: str, skipped: bool = False) -> dict[str, Any]:
    entry = {"name": name, "kind": kind, "uri": str(path), "bytes": size, "sha256": digest}
    if skipped:
        entry["skipped"] = True
    return entry


def _temp_name(name: str) -> str:
    # Hidden and bounded, so that a 255-character name still gives a valid temporary name.
    return f".{name[:200]}.part-{uuid.uuid4().hex[:8]}"


def _differs(path: Any, detail: str = "") -> str:
    return (
        f"{path} exists with different content{detail}; pass overwrite=True to replace it "
        "(the existing file was left as it is)"
    )


# These go through ``path.fs``, the filesystem that ``path.open`` writes with (Airflow's, with the
# connection's credentials); ObjectStoragePath's own exists/rename may use another instance.


def _existing_size(path: Any) -> int | None:
    try:
        info = path.fs.info(path.path)
    except FileNotFoundError:
        return None
    if info.get("type") == "directory":
        raise DataPumpError(f"{path} is a directory; cannot write a file there")
    return int(info.get("size") or 0)


def _move(src: Any, dst: Any) -> None:
    # A rename where the store has one; fsspec copies then deletes where it does not.
    src.fs.mv(src.path, dst.path)


def _remove_quietly(path: Any, log: Any) -> None:
    try:
        if path.fs.exists(path.path):
            path.fs.rm(path.path)
    except Exception as err:  # never mask the real error with a cleanup failure
        log.warning("Could not remove the partial file %s: %s", path, err)


def _sha256_of(path: Any) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as src:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


class _Cancelled(DataPumpError):
    """Another file of the set failed (or the task was killed); this transfer stops."""


def _discard(upload: _storage.DirectUpload, log: Any, where: object) -> None:
    """Abandon ``upload`` after a failure, never masking that failure with a cleanup error."""
    try:
        upload.discard()
    except Exception as err:
        log.warning("Could not abort the upload to %s: %s", where, err)


class _BackgroundSha256:
    """SHA-256 on a thread of its own, fed copies of the chunks through a short queue.

    Hashed inline, a 2 GiB fetch ran at 0.4x the speed of the same download without the hash
    (bench/download.py --out-dir /dev/shm; 0.73x with this). hashlib releases the GIL on large
    buffers, so the hash runs beside the socket reads and file writes instead of after each of them.
    The queue bounds the memory.
    """

    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._thread = threading.Thread(target=self._run, name="dp-sha256", daemon=True)
        self._thread.start()
        self._finished = False

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            self._sha.update(chunk)

    def update(self, chunk: bytes) -> None:
        self._queue.put(chunk)

    def finish(self) -> None:
        if not self._finished:
            self._finished = True
            self._queue.put(None)
            self._thread.join()

    def hexdigest(self) -> str:
        self.finish()
        return self._sha.hexdigest()


class _HashingWriter:
    """Where one attempt's bytes go: counted, hashed and reported as they are written.

    ``path`` is a temporary file in the destination, or with a ``direct`` policy the final object
    itself, as an upload that is completed by ``commit`` and abandoned by ``discard``. With
    ``path=None`` nothing is written: the bytes are only counted and hashed, to compare them with
    ``existing`` (the file already at the final path, and its size).
    """

    def __init__(
        self,
        path: Any,
        label: str,
        log: Any,
        abort: threading.Event,
        existing: tuple[Any, int | None] | None = None,
        policy: _storage.StorePolicy = _storage.RENAME,
    ) -> None:
        self.path = path
        self.label = label
        self.log = log
        self.abort = abort
        self.existing = existing
        self.policy = policy
        self.bytes = 0
        self.expected: int | None = None
        # A direct upload opens once the length is known, to size its parts from it.
        self._out = path.open("wb") if path is not None and not policy.direct else None
        self._upload: _storage.DirectUpload | None = None
        self.sha256 = _BackgroundSha256()  # after the open, so a failed open leaves no thread behind
        self._start = self._last = time.monotonic()

    def announce(self, length: int | None) -> None:
        self.expected = length
        if self.existing is not None and length is not None and length != self.existing[1]:
            # Known to differ before the body is read: do not download it only to say so.
            path, size = self.existing
            raise DataPumpError(_differs(path, f" ({size} bytes; the server's copy has {length})"))
        if self.path is not None and self.policy.direct:
            reason = self.policy.too_big(length)
            if reason:
                raise DataPumpError(f"{self.label}: {reason}; nothing was uploaded")
            self._open_direct(length)

    def _open_direct(self, length: int | None) -> None:
        part = self.policy.part_size(length)
        if length is None:
            self.log.warning(
                "%s: the server sent no Content-Length; uploading in %d-byte parts", self.label, part
            )
        self._upload = _storage.open_direct(self.path, self.policy, part)

    def write(self, data: Any) -> int:
        if self.abort.is_set():
            raise _Cancelled(f"{self.label}: transfer cancelled")
        # One copy, shared by the hash and the upload: the hook reads the next chunk into the same
        # buffer as soon as this returns, while both still hold this one.
        chunk = bytes(data)
        if self.policy.direct and self.path is not None:
            if self._upload is None:
                self._open_direct(None)  # a sink that was never announced
            assert self._upload is not None
            self._upload.write(chunk)
        elif self._out is not None:
            self._out.write(chunk)
        self.sha256.update(chunk)
        self.bytes += len(data)
        now = time.monotonic()
        if now - self._last >= PROGRESS_EVERY:
            self._last = now
            rate = self.bytes / max(now - self._start, 1e-9) / 1e6
            share = f" of {self.expected} ({100 * self.bytes / self.expected:.0f}%)" if self.expected else ""
            self.log.info("%s: %d bytes%s at %.0f MB/s", self.label, self.bytes, share, rate)
        return len(data)

    def commit(self, final: Any) -> None:
        """Make the checked bytes visible at ``final``: complete the upload, or rename the temporary file."""
        if self.policy.direct:
            if self._upload is None:
                self._open_direct(0)  # an empty file is a real (empty) object too
            assert self._upload is not None
            upload, self._upload = self._upload, None
            upload.commit()
        else:
            assert self._out is not None  # opened by the first write, or by the empty-file case above
            self._out.close()
            _move(self.path, final)

    def discard(self) -> None:
        self.sha256.finish()
        if self.path is None:
            return
        if self.policy.direct:
            upload, self._upload = self._upload, None
            if upload is not None:
                _discard(upload, self.log, self.path)
            return
        try:
            if self._out is not None and not self._out.closed:
                self._out.close()
        except Exception as err:
            self.log.warning("Could not close the partial file %s: %s", self.path, err)
        _remove_quietly(self.path, self.log)


class _CappedBuffer:
    """An in-memory sink that refuses to grow past a cap (and says so before the body is read)."""

    def __init__(self, cap: int, label: str) -> None:
        self.cap, self.label = cap, label
        self._buf = io.BytesIO()

    def announce(self, length: int | None) -> None:
        if length is not None and length > self.cap:
            raise self._too_big(f"is {length} bytes")

    def write(self, data: Any) -> int:
        # No Content-Length was sent: the cap still holds, counted as the body arrives.
        if self._buf.tell() + len(data) > self.cap:
            raise self._too_big(f"is more than {self.cap} bytes")
        return self._buf.write(data)

    def _too_big(self, size: str) -> DataPumpValidationError:
        return DataPumpValidationError(
            "max_xcom_bytes",
            f"{self.label} {size}, over the {self.cap}-byte XCom cap; raise max_xcom_bytes or fetch it into a "
            "destination instead",
        )

    def seekable(self) -> bool:
        return True

    def seek(self, pos: int) -> int:
        return self._buf.seek(pos)

    def truncate(self) -> int:
        return self._buf.truncate()

    def getvalue(self) -> bytes:
        return self._buf.getvalue()
