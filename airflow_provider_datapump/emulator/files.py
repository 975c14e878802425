"""The database server's disk: directory objects under a data directory, and a virtual object store.

Every file the emulator writes is remembered, so that a reset removes exactly those.
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


class FileStore:
    def __init__(self, data_dir: str | os.PathLike[str] | None = None):
        if data_dir is None:
            self.data_dir = tempfile.mkdtemp(prefix="datapump-emulator-")
            self._owns_data_dir = True
        else:
            self.data_dir = os.path.abspath(os.fspath(data_dir))
            os.makedirs(self.data_dir, exist_ok=True)
            self._owns_data_dir = False
        self._created: set[str] = set()
        # Object Storage URI -> the local file that holds its bytes.
        self.objects: dict[str, str] = {}

    def dir_path(self, directory: str) -> str:
        path = os.path.join(self.data_dir, directory)
        os.makedirs(path, exist_ok=True)
        return path

    def object_path(self, uri: str) -> str:
        folder = os.path.join(self.data_dir, OBJECT_STORE_DIR)
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
        if uri is not None:
            self.objects[uri] = path

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
        """Remove every file the emulator wrote; directories stay."""
        for path in sorted(self._created):
            try:
                os.remove(path)
            except OSError:
                pass
        self._created.clear()
        self.objects.clear()

    def close(self) -> None:
        """Remove the data directory if the emulator created it."""
        if self._owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
