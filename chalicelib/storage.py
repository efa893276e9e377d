"""Where call audio is kept (services/recordings.py): a private S3 bucket in AWS (boto3's
client imported on first use only), or a directory under `make dev` and in tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from chalicelib.config import Settings


class AudioStore(Protocol):
    def put(self, key: str, data: bytes) -> None: ...
    def get(self, key: str) -> bytes | None: ...


class DirectoryStore:
    """Files under a directory (local development)."""

    def __init__(self, root: str) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"bad recording key {key!r}")
        return path

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None


LINK_SECONDS = 300


class S3Store:
    """A private S3 bucket (AWS): server-side encrypted objects, read by the API only."""

    def __init__(self, bucket: str, region: str) -> None:
        self.bucket = bucket
        self.region = region
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # on first use: ~300 ms of cold start otherwise
            from botocore.config import Config

            config = Config(signature_version="s3v4")
            self._client = boto3.client("s3", region_name=self.region, config=config)
        return self._client

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=data,
            ContentType="audio/wav",
            ServerSideEncryption="AES256",
        )

    def link(self, key: str) -> str:
        """A presigned GET URL of the object, valid LINK_SECONDS: the API answers 303 to it,
        so audio never passes through Lambda (whose response cannot pass 6 MB: a recorded
        call over about two minutes)."""
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key, "ResponseContentType": "audio/wav"},
            ExpiresIn=LINK_SECONDS,
        )
        return url

    def get(self, key: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey:
            return None
        body: bytes = answer["Body"].read()
        return body


def audio_store(settings: Settings) -> AudioStore:
    """The stack's storage for call audio: RECORDINGS_BUCKET (AWS), else RECORDINGS_DIR."""
    if settings.recordings_bucket:
        return S3Store(settings.recordings_bucket, settings.region)
    return DirectoryStore(settings.recordings_dir)


class MemoryAudio:
    """In memory (unit and API tests)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, key: str, data: bytes) -> None:
        self.files[key] = data

    def get(self, key: str) -> bytes | None:
        return self.files.get(key)
