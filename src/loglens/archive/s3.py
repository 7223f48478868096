"""The S3 backend (AWS or any S3-compatible server), through boto3: ``{prefix}/{source}/{YYYY}/.../{name}``.

Credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID``..., ``~/.aws``, an instance role).
Checksums are sent only where S3 requires them, as S3-compatible servers that predate the CRC
checksums of boto3 1.36 refuse them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, cast

from loglens.archive.backend import StoredSegment
from loglens.archive.names import SegmentName
from loglens.config_sections import S3Config
from loglens.errors import ConfigError

#: Keys one DeleteObjects request may name.
DELETE_BATCH = 1000


class S3Backend:
    """A bucket (and prefix) of segments."""

    kind = "s3"

    def __init__(self, config: S3Config) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise ConfigError("archive.backend s3 needs boto3: pip install 'loglens[s3]'") from None
        assert config.bucket is not None  # the settings refuse s3 without a bucket
        self.bucket = config.bucket
        self.prefix = f"{config.prefix}/" if config.prefix else ""
        self.where = f"s3://{self.bucket}/{self.prefix}"
        settings = Config(
            connect_timeout=5,
            read_timeout=60,
            retries={"total_max_attempts": 2, "mode": "standard"},  # then the publisher's backoff
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        try:
            self.client: Any = boto3.session.Session().client(
                "s3", endpoint_url=config.endpoint_url, region_name=config.region, config=settings
            )
        except ValueError as exc:  # botocore's word on a bad endpoint URL or region
            raise ConfigError(f"archive.s3: {exc}") from None

    def store(self, path: Path, name: SegmentName) -> None:
        """Upload the segment, then delete the spool file."""
        with open(path, "rb") as body:
            self.client.put_object(
                Bucket=self.bucket, Key=self.prefix + name.key, Body=body, ContentType="application/gzip"
            )
        path.unlink()

    def segments(self, sources: Collection[str] | None = None) -> Iterator[StoredSegment]:
        """Every segment under the prefix (of ``sources`` when given)."""
        prefixes = [self.prefix] if sources is None else [f"{self.prefix}{safe}/" for safe in sorted(sources)]
        pages = self.client.get_paginator("list_objects_v2")
        for prefix in prefixes:
            for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    name = SegmentName.parse(item["Key"][len(self.prefix) :])
                    if name is not None:
                        yield StoredSegment(name, item["Size"], item["LastModified"].timestamp())

    def delete(self, names: Sequence[SegmentName]) -> None:
        """Delete the segments, a thousand a request.

        Raises:
            OSError: S3 refused to delete some of them.
        """
        for first in range(0, len(names), DELETE_BATCH):
            keys = [{"Key": self.prefix + name.key} for name in names[first : first + DELETE_BATCH]]
            answer = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True})
            errors = answer.get("Errors", [])
            if errors:
                raise OSError(f"S3 refused to delete {len(errors)} segment(s): {errors[0].get('Message')}")

    def open(self, name: SegmentName) -> BinaryIO:
        """The segment's body, streamed."""
        answer = self.client.get_object(Bucket=self.bucket, Key=self.prefix + name.key)
        return cast(BinaryIO, answer["Body"])
