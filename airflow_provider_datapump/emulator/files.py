"""The database server's disk: directory objects under a data directory, and a virtual object store.

Every file the emulator writes is remembered, so that a reset removes exactly those.

The object store lives in this process (under the data directory) unless the setting
``object_store_dir`` names a folder: then that folder stands for the bucket, shared by every
emulator process pointed at it (production's and test's). Each object is ``<sha>.dmp`` plus a
sidecar ``<sha>.uri`` holding its URI, written after the dump, through a temporary name, so a
reader lists only complete objects and can always tell which URI a file holds.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from typing import Any

from .dumpfiles import write_dump
from .errors import BadRequest
from .naming import expand, has_substitution, pattern_regex

__all__ = ["FileStore", "OBJECT_STORE_DIR"]

OBJECT_STORE_DIR = "_object_store"
URI_SUFFIX = ".uri"


class FileStore:
    def __init__(
        self, data_dir: str | os.PathLike[str] | None = None, settings: dict[str, Any] | None = None
    ):
        if data_dir is None:
            self.data_dir = tempfile.mkdtemp(prefix="datapump-emulator-")
            self._owns_data_dir = True
        else:
            self.data_dir = os.path.abspath(os.fspath(data_dir))
            os.makedirs(self.data_dir, exist_ok=True)
            self._owns_data_dir = False
        self._created: set[str] = set()
        # Object Storage URI -> the local file that holds its bytes (this process's store).
        self._objects: dict[str, str] = {}
        self._settings = settings if settings is not None else {}

    @property
    def shared_dir(self) -> str | None:
        """The folder shared with other emulator processes, or None."""
        folder = self._settings.get("object_store_dir")
        if folder:
            os.makedirs(folder, exist_ok=True)
        return folder or None

    @property
    def objects(self) -> dict[str, str]:
        """Object Storage URI -> the local file that holds its bytes."""
        folder = self.shared_dir
        if folder is None:
            return self._objects
        found: dict[str, str] = {}
        for entry in os.listdir(folder):
            if not entry.endswith(URI_SUFFIX):
                continue
            dump = os.path.join(folder, entry[: -len(URI_SUFFIX)] + ".dmp")
            try:
                with open(os.path.join(folder, entry), encoding="utf-8") as fh:
                    uri = fh.read()
            except OSError:
                continue  # removed by its writer's reset meanwhile
            if uri and os.path.isfile(dump):
                found[uri] = dump
        return found

    def dir_path(self, directory: str) -> str:
        path = os.path.join(self.data_dir, directory)
        os.makedirs(path, exist_ok=True)
        return path

    def object_path(self, uri: str) -> str:
        folder = self.shared_dir or os.path.join(self.data_dir, OBJECT_STORE_DIR)
        os.makedirs(folder, exist_ok=True)
        return os.path.join(folder, hashlib.sha256(uri.encode()).hexdigest()[:40] + ".dmp")

    def write_text(self, path: str, text: str) -> None:
        # Through a temporary name: a reader never sees half a log.
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
        self._created.add(path)

    def write_dump(self, path: str, header: dict[str, Any], size: int, *, uri: str | None = None) -> None:
        if os.path.exists(path):
            os.remove(path)
        write_dump(path, header, size)
        self._created.add(path)
        if uri is None:
            return
        if self.shared_dir is not None and os.path.dirname(path) == self.shared_dir:
            # The sidecar last: another process lists the object only once its bytes are there.
            self.write_text(path[: -len(".dmp")] + URI_SUFFIX, uri)
        else:
            self._objects[uri] = path

    def dump_set(self, file_name: str, directory: str, *, object_store: bool) -> tuple[list[str], list[str]]:
        """The files an import's file_name names: (names, paths), or 400 with Data Pump's ORA text."""
        rx = pattern_regex(file_name)
        if object_store:
            names = sorted(u for u in self.objects if rx.fullmatch(u))
            paths = [self.objects[u] for u in names]
            where = file_name
        else:
            dir_path = os.path.join(self.data_dir, directory)
            try:
                entries = os.listdir(dir_path)
            except FileNotFoundError:
                entries = []
            if has_substitution(file_name):
                names = sorted(
                    e for e in entries if rx.fullmatch(e) and os.path.isfile(os.path.join(dir_path, e))
                )
            else:
                names = [file_name] if os.path.isfile(os.path.join(dir_path, file_name)) else []
            paths = [os.path.join(dir_path, n) for n in names]
            where = os.path.join(dir_path, expand(file_name, 1))
        if not names:
            raise BadRequest(
                "ORA-39001: invalid argument value\nORA-39000: bad dump file specification\n"
                f'ORA-31640: unable to open dump file "{where}" for read\n'
                "ORA-27037: unable to obtain file status"
            )
        return names, paths

    def reset(self) -> None:
        """Remove every file this emulator wrote (in a shared object store, only its own); directories stay."""
        for path in sorted(self._created):
            try:
                os.remove(path)
            except OSError:
                pass
        self._created.clear()
        self._objects.clear()

    def close(self) -> None:
        """Remove the data directory if the emulator created it."""
        if self._owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
