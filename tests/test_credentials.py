"""API key lookup order, base-URL resolution and redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from aliyun_video_magics.credentials import (
    REGION_BASE_URLS,
    load_api_key,
    redact,
    resolve_base_url,
)
from aliyun_video_magics.errors import MissingApiKeyError, VideoUsageError

ENV_VARS = ("DASHSCOPE_API_KEY", "DASHSCOPE_API_KEY_FILE_PATH", "DASHSCOPE_HTTP_BASE_URL", "DASHSCOPE_BASE_URL")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No key or base URL from the developer's machine; HOME is an empty folder."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    return home


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def sdk_key_file(home: Path, key: str) -> Path:
    return write(home / ".dashscope" / "api_key", key + "\n")


def alibabacloud_file(home: Path, key: str, section: str = "default") -> Path:
    return write(home / ".alibabacloud" / "credentials", f"[{section}]\ndashscope_api_key = {key}\n")


# ---------------------------------------------------------------- base URL


@pytest.mark.parametrize("region", sorted(REGION_BASE_URLS))
def test_region_picks_its_host(region: str) -> None:
    assert resolve_base_url(region) == REGION_BASE_URLS[region]


def test_region_hosts_are_the_documented_ones() -> None:
    assert REGION_BASE_URLS == {
        "cn-beijing": "https://dashscope.aliyuncs.com/api/v1",
        "ap-southeast-1": "https://dashscope-intl.aliyuncs.com/api/v1",
        "us-east-1": "https://dashscope-us.aliyuncs.com/api/v1",
    }


def test_base_url_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHSCOPE_BASE_URL", "http://base.example/api/v1")
    assert resolve_base_url("cn-beijing") == "http://base.example/api/v1"
    monkeypatch.setenv("DASHSCOPE_HTTP_BASE_URL", "http://http-base.example/api/v1/")
    assert resolve_base_url("cn-beijing") == "http://http-base.example/api/v1"
    assert resolve_base_url("cn-beijing", "http://explicit.example/api/v1") == "http://explicit.example/api/v1"


def test_unknown_region_names_the_allowed_ones() -> None:
    with pytest.raises(VideoUsageError, match="eu-west-9") as caught:
        resolve_base_url("eu-west-9")
    assert all(region in str(caught.value) for region in REGION_BASE_URLS)


def test_override_makes_any_region_name_acceptable() -> None:
    assert resolve_base_url("anywhere", "http://127.0.0.1:9/api/v1") == "http://127.0.0.1:9/api/v1"


# ---------------------------------------------------------------- API key


def test_environment_variable_comes_first(monkeypatch: pytest.MonkeyPatch, clean_env: Path, tmp_path: Path) -> None:
    sdk_key_file(clean_env, "sk-file")
    monkeypatch.setenv("DASHSCOPE_API_KEY_FILE_PATH", str(write(tmp_path / "k", "sk-named")))
    monkeypatch.setenv("DASHSCOPE_API_KEY", "  sk-env \n")
    assert load_api_key() == "sk-env"


def test_named_file_beats_default_files(monkeypatch: pytest.MonkeyPatch, clean_env: Path, tmp_path: Path) -> None:
    sdk_key_file(clean_env, "sk-default-file")
    alibabacloud_file(clean_env, "sk-alibabacloud")
    monkeypatch.setenv("DASHSCOPE_API_KEY_FILE_PATH", str(write(tmp_path / "k", "sk-named\n")))
    assert load_api_key() == "sk-named"


def test_sdk_default_file_beats_alibabacloud_credentials(clean_env: Path) -> None:
    sdk_key_file(clean_env, "sk-default-file")
    alibabacloud_file(clean_env, "sk-alibabacloud")
    assert load_api_key() == "sk-default-file"


def test_alibabacloud_credentials_default_section(clean_env: Path) -> None:
    alibabacloud_file(clean_env, "sk-alibabacloud")
    assert load_api_key() == "sk-alibabacloud"


def test_other_sections_and_broken_files_are_skipped(monkeypatch: pytest.MonkeyPatch, clean_env: Path, tmp_path: Path) -> None:
    alibabacloud_file(clean_env, "sk-other-profile", section="work")
    monkeypatch.setenv("DASHSCOPE_API_KEY_FILE_PATH", str(tmp_path / "missing"))
    monkeypatch.setenv("DASHSCOPE_API_KEY", "   ")
    with pytest.raises(MissingApiKeyError):
        load_api_key()
    write(clean_env / ".alibabacloud" / "credentials", "not an ini file")
    with pytest.raises(MissingApiKeyError):
        load_api_key()


def test_key_is_read_at_call_time(monkeypatch: pytest.MonkeyPatch, clean_env: Path) -> None:
    with pytest.raises(MissingApiKeyError):
        load_api_key()
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-later")
    assert load_api_key() == "sk-later"
    monkeypatch.delenv("DASHSCOPE_API_KEY")
    sdk_key_file(clean_env, "sk-rotated")
    assert load_api_key() == "sk-rotated"


def test_missing_key_message_lists_places_in_order(clean_env: Path) -> None:
    with pytest.raises(MissingApiKeyError) as caught:
        load_api_key()
    message = str(caught.value)
    places = [
        "DASHSCOPE_API_KEY",
        "DASHSCOPE_API_KEY_FILE_PATH",
        str(clean_env / ".dashscope" / "api_key"),
        "dashscope_api_key under [default]",
        str(clean_env / ".alibabacloud" / "credentials"),
    ]
    positions = [message.index(place) for place in places]
    assert positions == sorted(positions)
    assert "before starting Jupyter" in message
    assert "not with %env" in message


def test_redact_replaces_every_occurrence() -> None:
    assert redact("Bearer sk-123 and sk-123 again", "sk-123") == "Bearer *** and *** again"
    assert redact("nothing here", "sk-123") == "nothing here"
    assert redact("no key known", None) == "no key known"
    assert redact("empty key", "") == "empty key"
