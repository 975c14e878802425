"""What the server says it accepts: its OpenAPI description, read once per connection and worker.

ORDS serves an OpenAPI 3.0 description of its Database API: ``GET …/_/db-api/<version>/metadata-catalog/``
answers with a ``canonical`` link to ``…/metadata-catalog/openapi.json`` (a captured exchange in
oracle/oracle-database-operator), and Oracle's reference pages are rendered from that document.
From it this module takes which create endpoints exist (POST on ``export``, ``import``, ``jobs/``)
and each request body's properties, with their types and enums. The server then decides which
keys are sent: a declared key passes, checked against its type and enum; an undeclared key is
refused before the create, naming the key and the release (``info.version``).

When the server describes nothing (404, 401, not JSON, no answer), ``payloads.body_for_endpoint``,
the table written from Oracle's reference pages for 19c to 26.3, applies instead; the
connection's ``ords_version`` overrides both (``plan_create``).

A description is kept in two layers (``DescriptionCache``): in the process, per connection, and
in a file on the worker's local disk, per server, because Airflow 3 runs every task try in a
process of its own and fifty mapped tasks would otherwise read it fifty times.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import os
import stat
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from airflow_provider_datapump.exceptions import (
    TRANSIENT_STATUSES,
    DataPumpError,
    DataPumpUnreachableError,
    DataPumpValidationError,
)
from airflow_provider_datapump.hooks.ords.instructions import Flow, Request
from airflow_provider_datapump.hooks.ords.policy import LinkPolicy, redact_url
from airflow_provider_datapump.hooks.ords.settings import OrdsSettings
from airflow_provider_datapump.payloads import body_for_endpoint, validate_endpoint

__all__ = [
    "DESCRIPTION_TTL",
    "UNANSWERED_TTL",
    "Described",
    "DescriptionCache",
    "OrdsDescription",
    "Property",
    "default_directory",
    "describe_flow",
    "parse_description",
    "plan_create",
]

# How long a description (or its absence) is trusted: a server upgraded in place is seen within
# this time. A description that did not arrive because nothing answered is asked
# for again sooner, so that a short outage does not pin the fallback.
DESCRIPTION_TTL = 600.0
UNANSWERED_TTL = 60.0
_MEDIA = "application/vnd.oai.openapi+json, application/json;q=0.9"
# Create endpoint -> the end of its path, relative to the Database API root.
_CREATE_PATHS = {
    "export": ("database", "datapump", "export"),
    "import": ("database", "datapump", "import"),
    "jobs": ("database", "datapump", "jobs"),
}
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (Mapping,),
}
_MAX_DEPTH = 8


class DescriptionError(ValueError):
    """The document is not a description the provider can read."""


@dataclass(frozen=True)
class Property:
    """One declared request property: its type, enum, and what its items or members declare."""

    type: str | None = None
    enum: tuple[Any, ...] | None = None
    items: Property | None = None
    properties: Mapping[str, Property] | None = None


@dataclass(frozen=True)
class OrdsDescription:
    """The create endpoints a server declares (endpoint -> its body's properties) and its release.

    An endpoint whose body lists no properties (no ``requestBody``, a free-form object) maps to
    None: the description says the endpoint exists but not what it takes, so the table says that."""

    version: str
    endpoints: Mapping[str, Mapping[str, Property] | None]
    url: str = ""

    def offers(self, endpoint: str) -> bool:
        return endpoint in self.endpoints

    def summary(self) -> str:
        names = ", ".join(
            f"POST {'jobs/' if e == 'jobs' else e}" for e in ("export", "import", "jobs") if self.offers(e)
        )
        return f"ORDS {self.version} describes its create endpoints: {names or 'none'}"


@dataclass(frozen=True)
class Described:
    """What reading the description gave: the description, or why there is none."""

    description: OrdsDescription | None
    reason: str = ""
    # Whether the server's answer stands (False: no answer, or an outage's; asked again sooner).
    answered: bool = True
    # The connection's ords_version, which overrides any description (none is then read).
    overridden: str | None = None


# ------------------------------------------------------------------------------------------ parsing


def parse_description(doc: Any, url: str = "") -> OrdsDescription:
    """The create endpoints and their body properties from an OpenAPI 3 document.

    Paths match with or without a leading slash, relative to the ``servers`` URL (whether the
    server lists ``/database/datapump/export`` under the Database API root or ``/export`` under
    ``…/database/datapump``); the body schema is the path's ``requestBody``, ``$ref`` resolved,
    never looked up by schema name.
    """
    if not isinstance(doc, Mapping):
        raise DescriptionError("the description is not a JSON object")
    openapi = str(doc.get("openapi") or "")
    if not openapi.startswith("3."):
        raise DescriptionError(f"it is not an OpenAPI 3 document (openapi: {openapi[:20]!r})")
    paths = doc.get("paths")
    if not isinstance(paths, Mapping):
        raise DescriptionError("the description has no paths")
    info = doc.get("info")
    version = str(info.get("version") or "unknown") if isinstance(info, Mapping) else "unknown"
    base = _server_segments(doc)
    endpoints: dict[str, dict[str, Property] | None] = {}
    for key, item in paths.items():
        if not isinstance(key, str) or not isinstance(item, Mapping):
            continue
        segments = tuple(s for s in (*base, *key.split("/")) if s)
        endpoint = next((e for e, tail in _CREATE_PATHS.items() if segments[-len(tail) :] == tail), None)
        post = item.get("post")
        if endpoint is None or not isinstance(post, Mapping) or endpoint in endpoints:
            continue
        endpoints[endpoint] = _body_properties(doc, post)
    if not endpoints:
        raise DescriptionError("it declares no Data Pump create endpoint (POST export, import or jobs/)")
    return OrdsDescription(version=_printable(version), endpoints=endpoints, url=url)


def _server_segments(doc: Mapping[str, Any]) -> tuple[str, ...]:
    servers = doc.get("servers")
    first = servers[0] if isinstance(servers, list) and servers else None
    url = first.get("url") if isinstance(first, Mapping) else None
    if not isinstance(url, str):
        return ()
    try:
        path = urlsplit(url).path if "://" in url else url
    except ValueError:
        return ()
    return tuple(s for s in path.split("/") if s)


def _resolve(doc: Mapping[str, Any], node: Any) -> Any:
    seen: set[str] = set()
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        ref = node["$ref"]
        if ref in seen or not ref.startswith("#/"):
            return {}  # a loop, or a document elsewhere: declares nothing readable
        seen.add(ref)
        target: Any = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, Mapping) else None
        node = target
    return node


def _body_properties(doc: Mapping[str, Any], post: Mapping[str, Any]) -> dict[str, Property] | None:
    body = _resolve(doc, post.get("requestBody"))
    content = body.get("content") if isinstance(body, Mapping) else None
    if not isinstance(content, Mapping):
        return None
    media = content.get("application/json")
    if media is None:
        media = next((v for k, v in content.items() if "json" in str(k)), None)
    schema = _resolve(doc, media.get("schema")) if isinstance(media, Mapping) else None
    prop = _property(doc, schema, 0)
    return dict(prop.properties) if prop.properties else None


def _property(doc: Mapping[str, Any], node: Any, depth: int) -> Property:
    node = _resolve(doc, node)
    if not isinstance(node, Mapping) or depth > _MAX_DEPTH:
        return Property()
    members: dict[str, Property] = {}
    # allOf composes an object from parts; their properties add up.
    for part in [node, *(node.get("allOf") or [])]:
        part = _resolve(doc, part)
        props = part.get("properties") if isinstance(part, Mapping) else None
        if isinstance(props, Mapping):
            members.update({str(k): _property(doc, v, depth + 1) for k, v in props.items()})
    kind = node.get("type")
    enum = node.get("enum")
    items = node.get("items")
    return Property(
        type=kind if isinstance(kind, str) else ("object" if members else None),
        enum=tuple(enum) if isinstance(enum, list) else None,
        items=_property(doc, items, depth + 1) if items is not None else None,
        properties=members or None,
    )


def _printable(text: str) -> str:
    text = "".join(ch for ch in text if ch.isprintable())
    return text[:40] or "unknown"


# ------------------------------------------------------------------------------------------ reading


def describe_flow(links: LinkPolicy, log: Any) -> Flow[Described]:
    """Read the description: the metadata catalog, then its canonical OpenAPI link.

    Through the hook's transport (its auth and retries). The link is followed only where the hook
    follows any server link (``LinkPolicy.trusted``: the connection's origin, under its base path);
    any other is never requested, and the documented address there
    (``…/metadata-catalog/openapi.json``) is read instead.
    """
    settings = links.settings
    catalog_url = f"{settings.db_api_root}metadata-catalog/"
    documented = catalog_url + "openapi.json"
    try:
        catalog = yield Request("GET", catalog_url)
        href = _canonical(catalog)
        url = urljoin(catalog_url, href) if href else documented
        if not links.trusted(url):  # the hook's one link rule: its origin, under its base path
            log.warning(
                "ORDS's metadata catalog links its description at %s, which is not under the connection's base URL %s; "
                "reading %s instead",
                redact_url(url),
                settings.base_url,
                documented,
            )
            url = documented
        doc = yield Request("GET", url, accept=_MEDIA)
    except DataPumpError as err:
        # No answer, or an outage's (429, 5xx): asked again sooner than a server that said "none".
        passing = (
            isinstance(err, DataPumpUnreachableError) or getattr(err, "status", None) in TRANSIENT_STATUSES
        )
        return Described(None, _reason(err), answered=not passing)
    try:
        return Described(parse_description(doc, redact_url(url) or ""))
    except DescriptionError as err:
        return Described(None, f"{redact_url(url)}: {err}")


def _canonical(catalog: Any) -> str | None:
    """The OpenAPI link of a metadata catalog: ``canonical`` (as ORDS sends it) or any link to an
    OpenAPI media type or an ``openapi.json``."""
    if not isinstance(catalog, Mapping):
        return None
    candidates: list[Any] = []
    for item in catalog.get("items") or ():
        if isinstance(item, Mapping):
            candidates.extend(item.get("links") or ())
    candidates.extend(catalog.get("links") or ())
    best: str | None = None
    for link in candidates:
        if not isinstance(link, Mapping) or not isinstance(link.get("href"), str):
            continue
        href, rel, media = link["href"], str(link.get("rel", "")), str(link.get("mediaType", ""))
        openapi = "openapi" in media.lower() or href.rstrip("/").endswith("openapi.json")
        if openapi and rel == "canonical":
            return href
        if openapi and best is None and rel != "self":
            best = href
    return best


def _reason(err: DataPumpError) -> str:
    text = str(err)
    return text if len(text) <= 300 else text[:297] + "..."


# The worker's file of a description: its layout changes with this number, which is part of the
# file's name, so a provider upgraded in place never reads an older provider's file.
_FILE_FORMAT = 1
# A description parsed down to its create endpoints is a few kB; anything far larger is not ours.
_FILE_MAX_BYTES = 1 << 20


def default_directory() -> str:
    """Where a worker keeps the descriptions it read: a directory of the OS user's own (mode 0700)
    in the local temporary directory, so two users on one machine neither share nor block it."""
    uid = _uid()
    name = "airflow-provider-datapump" if uid is None else f"airflow-provider-datapump-{uid}"
    return os.path.join(tempfile.gettempdir(), name)


def _uid() -> int | None:
    getuid = getattr(os, "getuid", None)
    return getuid() if getuid is not None else None


def _private(st: os.stat_result, writable_by_others: int) -> bool:
    uid = _uid()
    return (uid is None or st.st_uid == uid) and not st.st_mode & writable_by_others


@dataclass
class DescriptionCache:
    """Descriptions kept for a bounded time, in two layers.

    In the process, per connection: what was read, or why nothing was (a failure too, for a
    shorter time when nothing answered). Under it, in a file on the worker's disk (``directory``),
    per server (origin, ORDS path, API version, TLS verification; never a credential): only a
    description that was read. A failure is not shared: a 401 is that connection's credentials, a timeout or a 5xx
    that moment's, and a server that describes nothing costs each task one small GET; so one
    connection's wrong password never pins the table for another's, and a server that starts
    describing itself is seen by the next task. A file that is corrupt, too old, not the user's
    own, or unreadable is ignored, and the description read again."""

    ttl: float = DESCRIPTION_TTL
    unanswered_ttl: float = UNANSWERED_TTL
    # None: ``default_directory()``, looked up when used (tempfile honours TMPDIR).
    directory: str | None = None
    _entries: dict[tuple[Any, ...], tuple[float, Described]] = field(default_factory=dict)
    _locks: dict[tuple[Any, ...], threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    @staticmethod
    def key(settings: OrdsSettings) -> tuple[Any, ...]:
        return (settings.conn_id, settings.base_url, settings.api_version, settings.auth_type, settings.login)

    @staticmethod
    def file_key(settings: OrdsSettings) -> str:
        """The name of a server's file: a hash of what identifies its description, nothing else.

        How TLS was verified is part of it: what a connection with ``verify`` off read is never
        what a verifying one takes."""
        scheme, host, port = settings.origin
        path = urlsplit(settings.base_url).path
        ident = json.dumps([_FILE_FORMAT, scheme, host, port, path, settings.api_version, settings.verify])
        return hashlib.sha256(ident.encode()).hexdigest()

    def get(self, settings: OrdsSettings) -> Described | None:
        key = self.key(settings)
        entry = self._entries.get(key)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        shared = self._load(settings)
        if shared is None:
            return None
        description, age = shared
        found = Described(description)
        # Kept only for what is left of its time: the bound holds from when it was read.
        self._entries[key] = (time.monotonic() + self.ttl - age, found)
        return found

    def put(self, settings: OrdsSettings, found: Described) -> None:
        ttl = self.ttl if found.answered else self.unanswered_ttl
        self._entries[self.key(settings)] = (time.monotonic() + ttl, found)
        if found.description is not None:
            self._store(settings, found.description)

    def lock(self, settings: OrdsSettings) -> threading.Lock:
        """One reader at a time per connection: the tasks of one worker that start together wait
        for the first one's answer instead of each asking."""
        with self._guard:
            return self._locks.setdefault(self.key(settings), threading.Lock())

    def clear(self, *, files: bool = True) -> None:
        """Forget what this process keeps; with ``files``, the worker's files too."""
        self._entries.clear()
        directory = self._directory(create=False) if files else None
        if directory is not None:
            for name in os.listdir(directory):
                if name.endswith(".json"):
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(directory, name))

    # The worker's files. Every failure here means only "not shared": the description is read.

    def _directory(self, *, create: bool) -> str | None:
        path = self.directory or default_directory()
        try:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(path, 0o700)
            st = os.lstat(path)
        except OSError:
            return None
        # Another user's directory, or one others may write to, could hold a planted description.
        return path if stat.S_ISDIR(st.st_mode) and _private(st, 0o077) else None

    def _load(self, settings: OrdsSettings) -> tuple[OrdsDescription, float] | None:
        directory = self._directory(create=False)
        if directory is None:
            return None
        key = self.file_key(settings)
        try:
            # No symlink followed; O_NONBLOCK so that a FIFO in its place cannot hang the task.
            flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
            fd = os.open(os.path.join(directory, f"{key}.json"), flags)
        except OSError:
            return None
        try:
            with os.fdopen(fd, "rb") as fh:
                st = os.fstat(fh.fileno())
                if not stat.S_ISREG(st.st_mode) or not _private(st, 0o022) or st.st_size > _FILE_MAX_BYTES:
                    return None
                doc = json.loads(fh.read(_FILE_MAX_BYTES + 1))
            if not isinstance(doc, dict) or doc.get("format") != _FILE_FORMAT or doc.get("key") != key:
                return None
            read_at = doc["read_at"]
            if not isinstance(read_at, (int, float)) or isinstance(read_at, bool):
                return None
            age = time.time() - read_at
            # A time ahead of now (a clock set back) is not trusted either.
            if not 0 <= age < self.ttl:
                return None
            return _description_from_file(doc), age
        except (OSError, ValueError, TypeError, KeyError, RecursionError):
            return None

    def _store(self, settings: OrdsSettings, description: OrdsDescription) -> None:
        directory = self._directory(create=True)
        if directory is None:
            return
        key = self.file_key(settings)
        data = json.dumps(
            {"format": _FILE_FORMAT, "key": key, "read_at": time.time(), **_description_to_file(description)},
            separators=(",", ":"),
        ).encode()
        try:
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=directory)
        except OSError:
            return
        # Written whole beside it, then renamed over it: a reader sees the old file or the new one,
        # never part of one; two processes that read at once each write theirs, and one stays.
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, os.path.join(directory, f"{key}.json"))
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _description_to_file(description: OrdsDescription) -> dict[str, Any]:
    return {
        "version": description.version,
        "url": description.url,
        "endpoints": {
            name: None if props is None else {k: _property_to_file(p) for k, p in props.items()}
            for name, props in description.endpoints.items()
        },
    }


def _property_to_file(prop: Property) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if prop.type is not None:
        out["type"] = prop.type
    if prop.enum is not None:
        out["enum"] = list(prop.enum)
    if prop.items is not None:
        out["items"] = _property_to_file(prop.items)
    if prop.properties is not None:
        out["properties"] = {k: _property_to_file(p) for k, p in prop.properties.items()}
    return out


def _description_from_file(doc: Mapping[str, Any]) -> OrdsDescription:
    """What ``_description_to_file`` wrote, checked as closely as a server's answer: ValueError or
    TypeError for anything else."""
    version, url, endpoints = doc["version"], doc["url"], doc["endpoints"]
    if not isinstance(version, str) or not isinstance(url, str) or not isinstance(endpoints, dict):
        raise ValueError("not a description file")
    if not endpoints or not set(endpoints) <= set(_CREATE_PATHS):
        raise ValueError("not a description file")
    parsed: dict[str, Mapping[str, Property] | None] = {}
    for name, props in endpoints.items():
        if props is not None and not isinstance(props, dict):
            raise ValueError("not a description file")
        parsed[name] = (
            None if props is None else {str(k): _property_from_file(p, 1) for k, p in props.items()}
        )
    return OrdsDescription(version=_printable(version), endpoints=parsed, url=url)


def _property_from_file(node: Any, depth: int) -> Property:
    if (
        not isinstance(node, dict)
        or depth > _MAX_DEPTH + 1
        or not set(node) <= set(Property.__dataclass_fields__)
    ):
        raise ValueError("not a description file")
    kind, enum, items, props = node.get("type"), node.get("enum"), node.get("items"), node.get("properties")
    if not isinstance(kind, (str, type(None))) or not isinstance(enum, (list, type(None))):
        raise ValueError("not a description file")
    if props is not None and not isinstance(props, dict):
        raise ValueError("not a description file")
    return Property(
        type=kind,
        enum=tuple(enum) if enum is not None else None,
        items=_property_from_file(items, depth + 1) if items is not None else None,
        properties={str(k): _property_from_file(v, depth + 1) for k, v in props.items()} if props else None,
    )


CACHE = DescriptionCache()


# ------------------------------------------------------------------------------------------ deciding


def plan_create(
    body: Mapping[str, Any], endpoint: Any, *, ords_version: str | None, description: OrdsDescription | None
) -> tuple[str, dict[str, Any]]:
    """(endpoint, the body it receives). The connection's ``ords_version`` wins; then the server's
    description; without either, the provider's table of every documented release."""
    if ords_version or description is None:
        return body_for_endpoint(body, endpoint, ords_version)
    return body_for_description(body, endpoint, description)


def declares(
    description: OrdsDescription | None, ords_version: str | None, endpoint: str, key: str
) -> bool | None:
    """Whether the server (by its description) takes ``key`` on ``endpoint``; None when it is the
    table's call (no description, or the connection's ords_version overrides it)."""
    if ords_version or description is None:
        return None
    declared = description.endpoints.get(endpoint)
    return None if declared is None else key in declared


def choose_endpoint(description: OrdsDescription, endpoint: Any, operation: str) -> str:
    """The create endpoint to post to: the one asked for, when the server declares it; by default
    the operation's own endpoint, or ``jobs/`` where the server offers only that."""
    op = str(operation).strip().lower()
    release = f"this ORDS ({description.version})"
    if endpoint is None:
        if description.offers(op):
            return op
        if description.offers("jobs"):
            return "jobs"
        raise DataPumpValidationError(
            "endpoint", f"{release} declares no create endpoint for an {op}: neither POST {op} nor POST jobs/"
        )
    chosen = validate_endpoint(endpoint, operation)
    if not description.offers(chosen):
        others = [e for e in (op, "jobs") if e != chosen and description.offers(e)]
        hint = (
            f"; leave endpoint unset to use POST {'jobs/' if others[0] == 'jobs' else others[0]}"
            if others
            else ""
        )
        raise DataPumpValidationError(
            "endpoint", f"{release} does not declare POST {'jobs/' if chosen == 'jobs' else chosen}{hint}"
        )
    return chosen


def body_for_description(
    body: Mapping[str, Any], endpoint: Any, description: OrdsDescription
) -> tuple[str, dict[str, Any]]:
    """(endpoint, body) for a server that described itself: every key it declares passes, checked
    against the declared type and enum; any other key is refused, naming it and the release."""
    chosen = choose_endpoint(description, endpoint, body["operation"])
    declared = description.endpoints[chosen]
    if declared is None:
        return body_for_endpoint(body, chosen)
    where = "jobs/" if chosen == "jobs" else chosen
    out: dict[str, Any] = {}
    for key, value in body.items():
        if key == "operation" and chosen != "jobs":
            continue
        prop = declared.get(key)
        if prop is None:
            close = difflib.get_close_matches(key, list(declared), n=1, cutoff=0.75)
            raise DataPumpValidationError(
                key,
                f"this ORDS ({description.version}) does not declare {key} on {where}, so it would drop it "
                "silently" + (f"; did you mean {close[0]!r}?" if close else ""),
            )
        out[key] = _check(key, value, prop, description.version)
    return chosen, out


def _check(field: str, value: Any, prop: Property, release: str) -> Any:
    kind = prop.type
    if kind == "boolean" and value in (0, 1) and not isinstance(value, bool):
        value = bool(value)  # the provider's 0/1 switches (keep_master), where a server declares a boolean
    if kind in _TYPES:
        ok = isinstance(value, _TYPES[kind]) and not (
            kind in ("integer", "number") and isinstance(value, bool)
        )
        if not ok:
            raise DataPumpValidationError(
                field,
                f"must be of type {kind} as this ORDS ({release}) declares it, not {type(value).__name__}",
            )
    if prop.enum is not None and value not in prop.enum:
        shown = ", ".join(map(str, prop.enum))
        raise DataPumpValidationError(
            field, f"{value!r} is not one of {shown}, the values this ORDS ({release}) declares"
        )
    if isinstance(value, (list, tuple)) and prop.items is not None:
        return [_check(f"{field}[{i}]", item, prop.items, release) for i, item in enumerate(value)]
    if isinstance(value, Mapping) and prop.properties:
        for member in value:
            if member not in prop.properties:
                raise DataPumpValidationError(
                    f"{field}.{member}",
                    f"this ORDS ({release}) does not declare it, so it would drop it silently",
                )
        return {k: _check(f"{field}.{k}", v, prop.properties[k], release) for k, v in value.items()}
    return value
