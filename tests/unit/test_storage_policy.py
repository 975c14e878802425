"""The per-store upload policy (operators/_storage.py): which stores are written directly, and part
sizes that keep any file up to the store's object limit within its part limit."""

from __future__ import annotations

import math

import pytest

from airflow_provider_datapump.operators import _storage

MiB, GiB, TiB = 1 << 20, 1 << 30, 1 << 40
S3 = _storage._POLICIES["s3fs.core.S3FileSystem"]
GCS = _storage._POLICIES["gcsfs.core.GCSFileSystem"]
AZURE = _storage._POLICIES["adlfs.spec.AzureBlobFileSystem"]


@pytest.mark.parametrize("policy", [S3, AZURE], ids=["s3", "azure"])
@pytest.mark.parametrize("length", [0, 1, 5 * MiB, 100 * GiB, 156 * GiB, 157 * GiB, 488 * GiB, 1 * TiB, 5 * TiB - 1, 5 * TiB])
def test_any_size_up_to_the_object_limit_fits_the_part_limit(policy, length):
    part = policy.part_size(length)
    assert math.ceil(length / part) <= policy.max_parts
    assert policy.default_part <= part <= policy.max_part
    assert part % MiB == 0
    assert policy.too_big(length) is None


def test_s3_parts_grow_only_past_the_default():
    assert S3.part_size(10 * GiB) == 16 * MiB  # 640 parts
    assert S3.part_size(5 * TiB) == 525 * MiB  # 9,987 parts: 5 TiB needs more than 524.288 MiB
    # s3fs's own 50 MiB default stops at 488 GiB: a 600 GiB dump would need 12,288 parts.
    assert math.ceil(600 * GiB / (50 * MiB)) > 10_000
    assert math.ceil(600 * GiB / S3.part_size(600 * GiB)) <= 10_000


def test_over_the_object_limit_is_refused_by_name():
    assert "Amazon S3's object size limit" in S3.too_big(5 * TiB + 1)
    assert GCS.too_big(5 * TiB + 1) and AZURE.too_big(5 * TiB + 1) is None


def test_gcs_chunks_are_multiples_of_256_kib():
    assert GCS.part_size(1 * TiB) % (256 * 1024) == 0 and GCS.max_parts is None


def test_unknown_filesystems_get_the_temporary_name_and_rename():
    import fsspec

    assert _storage.policy_for(fsspec.filesystem("file")) is _storage.RENAME
    assert _storage.policy_for(fsspec.filesystem("memory")) is _storage.RENAME


def test_subclasses_of_a_store_filesystem_keep_its_policy():
    import s3fs

    class Custom(s3fs.S3FileSystem):
        pass

    assert _storage.policy_for(Custom.__new__(Custom)) is S3
