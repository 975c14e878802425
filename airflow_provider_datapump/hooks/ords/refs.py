"""Job references: every form a caller may name a job by, turned into (owner, name, url)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from airflow_provider_datapump.exceptions import DataPumpValidationError
from airflow_provider_datapump.hooks.ords.policy import LinkPolicy
from airflow_provider_datapump.jobs import DataPumpJob, JobRef

__all__ = ["JobRef", "file_href", "locate"]


def locate(job: JobRef, links: LinkPolicy) -> tuple[str, str, str]:
    """(owner, job_name, url) for any job reference, with the link policy applied."""
    href: str | None = None
    owner: Any
    name: Any
    if isinstance(job, DataPumpJob):
        owner, name, href = job.owner_name, job.job_name, job.self_href
    elif isinstance(job, Mapping):
        owner, name = job.get("owner_name"), job.get("job_name")
        href = job.get("self_url") or next(
            (
                link.get("href")
                for link in job.get("links") or ()
                if isinstance(link, Mapping) and link.get("rel") == "self"
            ),
            None,
        )
        if (not owner or not name) and href:
            owner, name = _ident_from_url(href)
    elif isinstance(job, str) and "://" in job:
        href = job
        owner, name = _ident_from_url(job)
    elif isinstance(job, str) and job.count(",") == 1:
        owner, name = (part.strip() for part in job.split(","))
    else:
        raise DataPumpValidationError(
            "job", f"{str(job)[:80]!r} is not a job dict, a job URL or 'OWNER,JOB_NAME'"
        )
    if not owner or not name or not isinstance(owner, str) or not isinstance(name, str):
        raise DataPumpValidationError("job", "does not name the job's owner and job name")
    _check_ident_part(owner)
    _check_ident_part(name)
    return owner, name, links.follow(href, owner, name)


def file_href(job: JobRef, file_name: str) -> str | None:
    """The server's link for a file, if the reference carries one (our XCom or an ORDS body)."""
    if isinstance(job, DataPumpJob):
        return next((f.href for f in job.files if f.name == file_name), None)
    if isinstance(job, Mapping):
        for f in job.get("files") or ():
            if isinstance(f, Mapping) and f.get("name") == file_name:
                return f.get("url")
        for link in job.get("links") or ():
            if (
                isinstance(link, Mapping)
                and isinstance(link.get("href"), str)
                and link["href"].endswith("/" + quote(file_name))
            ):
                return link["href"]
    return None


def _ident_from_url(url: str) -> tuple[str | None, str | None]:
    path = unquote(urlsplit(url).path)
    marker = "/jobs/"
    if marker not in path:
        return None, None
    segment = path.rsplit(marker, 1)[1].split("/", 1)[0]
    if segment.count(",") != 1:
        return None, None
    owner, name = segment.split(",")
    return owner or None, name or None


def _check_ident_part(value: str) -> None:
    # $ and # are legal in Oracle names (C##ADMIN, a common user); they are percent-encoded in URLs.
    if (
        not value
        or len(value) > 128
        or any(ch in "/\\,?\"'%" or ord(ch) < 33 or ord(ch) == 127 for ch in value)
    ):
        raise DataPumpValidationError("job", f"{value[:80]!r} is not a Data Pump owner or job name")
