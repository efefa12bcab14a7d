"""Where requests go (base URL per region) and who sends them (the API key).

The key is looked up at call time, never cached at import, so a key set after the
extension was loaded (or rotated in a file) is picked up by the next request.
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path

from .errors import MissingApiKeyError, VideoUsageError

REGION_BASE_URLS: dict[str, str] = {
    "cn-beijing": "https://dashscope.aliyuncs.com/api/v1",
    "ap-southeast-1": "https://dashscope-intl.aliyuncs.com/api/v1",
    "us-east-1": "https://dashscope-us.aliyuncs.com/api/v1",
}

API_KEY_ENV = "DASHSCOPE_API_KEY"
API_KEY_FILE_ENV = "DASHSCOPE_API_KEY_FILE_PATH"
BASE_URL_ENVS = ("DASHSCOPE_HTTP_BASE_URL", "DASHSCOPE_BASE_URL")


def resolve_base_url(region: str, override: str | None = None) -> str:
    """The native API base (``…/api/v1``): explicit override, then env, then the region's host."""
    for candidate in (override, *(os.environ.get(name) for name in BASE_URL_ENVS)):
        if candidate and candidate.strip():
            return candidate.strip().rstrip("/")
    try:
        return REGION_BASE_URLS[region]
    except KeyError:
        allowed = ", ".join(REGION_BASE_URLS)
        raise VideoUsageError(f"Unknown region {region!r}; use one of: {allowed}.") from None


def _sdk_key_file() -> Path:
    return Path.home() / ".dashscope" / "api_key"


def _alibabacloud_credentials_file() -> Path:
    return Path.home() / ".alibabacloud" / "credentials"


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _read_credentials_ini(path: Path) -> str | None:
    parser = configparser.ConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None
    return parser.get("default", "dashscope_api_key", fallback="").strip() or None


def load_api_key() -> str:
    """Return the first key found, in the same order as the DashScope SDK (plus the Alibaba Cloud file)."""
    key = os.environ.get(API_KEY_ENV, "").strip()
    if key:
        return key
    key_file = os.environ.get(API_KEY_FILE_ENV, "").strip()
    for found in (
        _read_text(Path(key_file).expanduser()) if key_file else None,
        _read_text(_sdk_key_file()),
        _read_credentials_ini(_alibabacloud_credentials_file()),
    ):
        if found:
            return found
    raise MissingApiKeyError(_missing_key_message())


def _missing_key_message() -> str:
    return (
        "No DashScope API key found. Looked in, in this order:\n"
        f"  1. the environment variable {API_KEY_ENV}\n"
        f"  2. the file named by the environment variable {API_KEY_FILE_ENV}\n"
        f"  3. the file {_sdk_key_file()}\n"
        f"  4. dashscope_api_key under [default] in {_alibabacloud_credentials_file()}\n"
        f"Set {API_KEY_ENV} in the environment before starting Jupyter "
        "(not with %env, which would save the key in the notebook), or write it to one of those files."
    )


def redact(text: str, key: str | None) -> str:
    """Replace every occurrence of the key with ``***`` so it never reaches a message or log."""
    return text.replace(key, "***") if key else text
