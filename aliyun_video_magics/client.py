"""DashScope video-generation HTTP client (plain ``requests``, one session per client).

Every operation maps to one endpoint of the native API. What may be repeated is
repeated by :mod:`.transport`; what must not (submit, cancel) is sent once, and a lost
answer is reported with what the user needs to find the task instead of re-sending it.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import requests
import urllib3

from .credentials import load_api_key, redact, resolve_base_url
from .errors import (
    APIError,
    CancelNotPossibleError,
    DashScopeError,
    DownloadError,
    NetworkError,
    PollTimeoutError,
    ResultExpiredError,
    SubmissionUnclearError,
    TaskCanceledError,
    TaskFailedError,
    TaskUnknownError,
    VideoUsageError,
)
from .polling import MAX_WAIT, MIN_WAIT, TaskHint, next_wait
from .transport import RetryPolicy, Transport, TruncatedBody

SUBMIT_PATH = "/services/aigc/video-generation/video-synthesis"
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"})
ERROR_TEXT_LIMIT = 300
DOWNLOAD_CHUNK = 1 << 14  # small enough that a cut transfer keeps most of what arrived
DIGEST_CHUNK = 1 << 20
LIST_PAGE_SIZE = 50


def _package_version() -> str:
    try:
        return metadata.version("aliyun-video-magics")
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return "dev"


DEFAULT_USER_AGENT = f"aliyun-video-magics/{_package_version()} (python-requests/{requests.__version__})"


@dataclass(frozen=True)
class Submission:
    """What the service said when it accepted a task, and where and when we sent it."""

    task_id: str
    task_status: str
    request_id: str | None
    sent_at: float
    base_url: str


# ---------------------------------------------------------------------------- helpers


def _mentions_oss(value: object) -> bool:
    """Whether any string anywhere in the payload is an ``oss://`` URL (it needs the resolve header)."""
    if isinstance(value, str):
        return value.startswith("oss://")
    if isinstance(value, dict):
        return any(_mentions_oss(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(_mentions_oss(item) for item in value)
    return False


def _utc_stamp(moment: datetime | float) -> str:
    """``YYYYMMDDhhmmss`` in UTC, the list endpoint's time format (naive datetimes are taken as UTC)."""
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, timezone.utc)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y%m%d%H%M%S")


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_fields(response: requests.Response) -> tuple[str, str, str | None]:
    """``(code, message, request_id)`` of an error answer, with the request's API key redacted."""
    key = response.request.headers.get("Authorization", "").removeprefix("Bearer ") if response.request else ""
    text = response.text
    body = _json_or_none(response)
    if isinstance(body, dict):
        code = str(body.get("code") or "Unknown")
        message = str(body.get("message") or text[:ERROR_TEXT_LIMIT])
        request_id = body.get("request_id")
    elif (xml_code := re.search(r"<Code>([^<]+)</Code>", text)) is not None:  # OSS answers in XML
        xml_message = re.search(r"<Message>([^<]*)</Message>", text)
        code, message, request_id = xml_code[1], xml_message[1] if xml_message else "", None
    else:
        code, message, request_id = "Unknown", text[:ERROR_TEXT_LIMIT], None
    message = message or f"HTTP {response.status_code} {response.reason}"
    return code, redact(message, key), request_id or response.headers.get("x-request-id")


def _api_error(response: requests.Response, *, task_id: str | None = None) -> APIError:
    code, message, request_id = _error_fields(response)
    return APIError(message, status=response.status_code, code=code, request_id=request_id, task_id=task_id)


def _json_object(response: requests.Response, *, task_id: str | None = None) -> dict[str, Any]:
    """The body of a 2xx answer, which must be a JSON object."""
    body = _json_or_none(response)
    if not isinstance(body, dict):
        text = response.text[:ERROR_TEXT_LIMIT]
        raise APIError(f"Expected a JSON object, got: {text!r}", status=response.status_code, code="Unknown", task_id=task_id)
    return body


def _nothing_sent(exc: requests.RequestException) -> bool:
    """True when the connection was never established, so the request cannot have arrived."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, urllib3.exceptions.NewConnectionError)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "the connection could not be opened in time"
    if isinstance(exc, requests.Timeout):
        return "no answer before the read timeout"
    if isinstance(exc, requests.ConnectionError):
        return "the connection failed or was dropped"
    return type(exc).__name__


def _status(task: dict[str, Any]) -> str | None:
    return (task.get("output") or {}).get("task_status")


def task_error(task: dict[str, Any]) -> DashScopeError | None:
    """The exception a terminal task JSON stands for, or ``None`` (SUCCEEDED or still going)."""
    output = task.get("output") or {}
    status = output.get("task_status")
    task_id = output.get("task_id")
    ids: dict[str, Any] = {"task_id": task_id, "request_id": task.get("request_id")}
    if status == "FAILED":
        message = output.get("message") or "The task failed without giving a reason."
        return TaskFailedError(message, code=output.get("code"), **ids)
    if status == "CANCELED":
        return TaskCanceledError("The task was cancelled before it started; no video was made.", **ids)
    if status == "UNKNOWN":
        return TaskUnknownError(
            "The service does not know this task: it has expired (tasks are kept about 24 h), "
            "or it belongs to another region or account's key.",
            **ids,
        )
    return None


def _unclear_message(model: str, sent_at: float, what_happened: str) -> str:
    sent = datetime.fromtimestamp(sent_at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"The submit request for {model} was sent at {sent}, but {what_happened}. "
        "A task may have been created and may be billed; it was NOT re-sent, to avoid a duplicate. "
        f"To find it, run `%video tasks`, or list the tasks of model {model} created around {sent} "
        "(GET /tasks with model_name, start_time and end_time), and use that task id instead of submitting again."
    )


def _expected_length(response: requests.Response, offset: int) -> int | None:
    """Total file size announced by a 200 (Content-Length) or a 206 (Content-Range) answer."""
    content_range = response.headers.get("Content-Range", "")
    if response.status_code == 206 and "/" in content_range and not content_range.endswith("/*"):
        return int(content_range.rsplit("/", 1)[1])
    length = response.headers.get("Content-Length")
    return offset + int(length) if length is not None else None


def _file_digest(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as source:
        while chunk := source.read(DIGEST_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _created_at(item: dict[str, Any]) -> float | None:
    """A list item's creation time in epoch seconds (the list gives epoch milliseconds)."""
    created = item.get("gmt_create")
    return created / 1000 if isinstance(created, (int, float)) else None


# ---------------------------------------------------------------------------- client


class DashScopeClient:
    """Submit, poll, cancel, list, upload and download against one regional DashScope host."""

    def __init__(
        self,
        region: str = "cn-beijing",
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        retry_sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.region = region
        self.base_url = resolve_base_url(region, base_url)
        self._api_key = api_key
        self._transport = Transport(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            policy=retry or RetryPolicy(),
            user_agent=user_agent,
            sleep=retry_sleep,
        )

    def __repr__(self) -> str:
        key = "given" if self._api_key else "looked up per request"
        return f"DashScopeClient(region={self.region!r}, base_url={self.base_url!r}, api_key=<{key}>)"

    def close(self) -> None:
        self._transport.session.close()

    def __enter__(self) -> DashScopeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- plumbing

    def _url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """API headers; the key is read now, so one set after the client was made is used."""
        key = self._api_key or load_api_key()
        return {"Authorization": f"Bearer {key}", "Accept": "application/json", **(extra or {})}

    def _get_json(self, path: str, *, params: dict[str, Any] | None = None, task_id: str | None = None) -> dict[str, Any]:
        """GET with retries; any non-2xx or unusable answer becomes an error."""
        try:
            response = self._transport.with_retries("GET", self._url(path), params=params, headers=self._headers())
        except requests.RequestException as exc:
            raise NetworkError(f"No answer from {self.base_url} after retrying: {_describe(exc)}.", task_id=task_id) from exc
        if not response.ok:
            raise _api_error(response, task_id=task_id)
        return _json_object(response, task_id=task_id)

    # -- tasks

    def submit(self, payload: dict[str, Any], *, endpoint_path: str = SUBMIT_PATH) -> Submission:
        """Create a task. Sent exactly once: an unclear outcome raises instead of re-sending."""
        model = str(payload.get("model", ""))
        extra = {"Content-Type": "application/json", "X-DashScope-Async": "enable"}
        if _mentions_oss(payload):
            extra["X-DashScope-OssResourceResolve"] = "enable"
        headers = self._headers(extra)
        sent_at = time.time()
        try:
            response = self._transport.once("POST", self._url(endpoint_path), json=payload, headers=headers)
        except requests.RequestException as exc:
            if _nothing_sent(exc):
                raise NetworkError(
                    f"Could not connect to {self.base_url} ({_describe(exc)}). Nothing was sent, so no task "
                    "was created; check the network and the region, then run it again."
                ) from exc
            unclear = _unclear_message(model, sent_at, f"no answer came back ({_describe(exc)})")
            raise SubmissionUnclearError(unclear, model=model, sent_at=sent_at) from exc
        if response.status_code >= 500:
            code, message, request_id = _error_fields(response)
            unclear = _unclear_message(model, sent_at, f"the service answered HTTP {response.status_code} ({message})")
            raise SubmissionUnclearError(
                unclear, model=model, sent_at=sent_at, status=response.status_code, code=code, request_id=request_id
            )
        if not response.ok:
            raise _api_error(response)
        body = _json_object(response)
        output = body.get("output") or {}
        if not output.get("task_id"):  # a 2xx carrying a business error instead of a task
            raise _api_error(response)
        return Submission(
            task_id=output["task_id"],
            task_status=output.get("task_status", "PENDING"),
            request_id=body.get("request_id") or response.headers.get("x-request-id"),
            sent_at=sent_at,
            base_url=self.base_url,
        )

    def get_task(self, task_id: str) -> dict[str, Any]:
        """The task's whole JSON answer (status, and the video URL once SUCCEEDED)."""
        return self._get_json(f"/tasks/{quote(task_id, safe='')}", task_id=task_id)

    def cancel(self, task_id: str) -> None:
        """Cancel a PENDING task. Sent once; the service refuses once the task is running."""
        url = self._url(f"/tasks/{quote(task_id, safe='')}/cancel")
        try:
            response = self._transport.once("POST", url, data=b"", headers=self._headers())
        except requests.RequestException as exc:
            raise NetworkError(
                f"The cancel request got no clear answer ({_describe(exc)}); it may or may not have been "
                "applied. Check the task's status before trying again.",
                task_id=task_id,
            ) from exc
        if response.ok:
            return
        error = _api_error(response, task_id=task_id)
        if response.status_code == 400 and error.code == "UnsupportedOperation":
            raise CancelNotPossibleError(
                "The task has already started running, so it can no longer be cancelled; "
                "it will finish and be billed.",
                status=error.status,
                code=error.code,
                request_id=error.request_id,
                task_id=task_id,
            )
        raise error

    def list_tasks(
        self,
        *,
        model: str | None = None,
        status: str | None = None,
        start: datetime | float | None = None,
        end: datetime | float | None = None,
        page_no: int = 1,
        page_size: int = 10,
    ) -> dict[str, Any]:
        """One page of the account's tasks; items are always under ``data``.

        ``start``/``end`` are datetimes (naive ones are taken as UTC) or epoch seconds.
        """
        params = {
            "page_no": page_no,
            "page_size": page_size,
            "model_name": model,
            "status": status,
            "start_time": _utc_stamp(start) if start is not None else None,
            "end_time": _utc_stamp(end) if end is not None else None,
        }
        body = self._get_json("/tasks", params={k: v for k, v in params.items() if v is not None})
        items = body.get("data") if isinstance(body.get("data"), list) else body.get("tasks")
        listing = {k: v for k, v in body.items() if k != "tasks"}
        listing["data"] = list(items or [])
        return listing

    def find_submitted(self, model: str, sent_at: float, window_seconds: float = 120) -> list[dict[str, Any]]:
        """Tasks of ``model`` created within ``window_seconds`` of ``sent_at``, closest first.

        This is how a :class:`SubmissionUnclearError` is resolved without submitting twice.
        """
        low, high = sent_at - window_seconds, sent_at + window_seconds
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            listing = self.list_tasks(model=model, start=low, end=high, page_no=page, page_size=LIST_PAGE_SIZE)
            items += listing["data"]
            if not listing["data"] or page >= int(listing.get("total_page") or 1):
                break
            page += 1

        def nearby(item: dict[str, Any]) -> bool:
            created = _created_at(item)
            in_window = created is None or low <= created <= high
            return item.get("model_name", model) == model and in_window

        return sorted(filter(nearby, items), key=lambda item: abs((_created_at(item) or sent_at) - sent_at))

    def wait(
        self,
        task_id: str,
        *,
        on_update: Callable[[dict[str, Any], float], None] | None = None,
        timeout: float | None = None,
        hint: TaskHint | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        min_wait: float = MIN_WAIT,
        max_wait: float = MAX_WAIT,
    ) -> dict[str, Any]:
        """Poll until the task ends; return its JSON if SUCCEEDED, else raise the matching error.

        The waits come from :func:`.polling.next_wait`, bounded by ``min_wait``/``max_wait``.
        ``elapsed`` (passed to ``on_update`` and the schedule) counts from this call, so call it
        right after submitting. Ctrl-C interrupts the sleep at once; the task keeps running.
        """
        started = clock()
        while True:
            task = self.get_task(task_id)
            elapsed = clock() - started
            if on_update:
                on_update(task, elapsed)
            if _status(task) in TERMINAL_STATUSES:
                if (error := task_error(task)) is not None:
                    raise error
                return task
            remaining = None if timeout is None else timeout - elapsed
            if remaining is not None and remaining <= 0:
                raise PollTimeoutError(
                    f"Stopped waiting after {elapsed:.0f} s while the task was still {_status(task)}. "
                    "It may still finish (and be billed): fetch it later by its task id "
                    "(results are kept about 24 h).",
                    task_id=task_id,
                    request_id=task.get("request_id"),
                )
            pause = next_wait(elapsed, hint, min_wait=min_wait, max_wait=max_wait)
            sleep(pause if remaining is None else min(pause, remaining))

    # -- files

    def upload(self, path: str | Path, model: str) -> str:
        """Put a local file in DashScope's temporary storage (48 h) and return its ``oss://`` URL.

        The URL only works for ``model`` and on this client's region, and the submit that uses
        it must carry the OSS-resolve header (``submit`` adds it).
        """
        source = Path(path)
        if not source.is_file():
            raise VideoUsageError(f"Cannot upload {source}: no such file.")
        policy = self._get_json("/uploads", params={"action": "getPolicy", "model": model}).get("data") or {}
        content_type = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        key = ""

        def attempt() -> requests.Response:
            # Overwrite is forbidden, so every attempt writes a fresh object key.
            nonlocal key
            key = f"{policy['upload_dir']}/{uuid.uuid4().hex[:12]}_{source.name}"
            fields = [
                ("OSSAccessKeyId", policy["oss_access_key_id"]),
                ("Signature", policy["signature"]),
                ("policy", policy["policy"]),
                ("key", key),
                ("x-oss-object-acl", policy["x_oss_object_acl"]),
                ("x-oss-forbid-overwrite", policy["x_oss_forbid_overwrite"]),
                ("success_action_status", "200"),
                ("x-oss-content-type", content_type),
            ]
            with source.open("rb") as stream:  # no Authorization: OSS trusts the signed policy
                files = {"file": (source.name, stream, content_type)}
                return self._transport.once("POST", policy["upload_host"], data=fields, files=files)

        try:
            response = self._transport.retrying(attempt)
        except KeyError as missing:
            raise APIError(f"The upload policy has no {missing} field.", code="Unknown") from None
        except requests.RequestException as exc:
            raise NetworkError(f"Uploading {source.name} failed: {_describe(exc)}.") from exc
        if not response.ok:
            raise _api_error(response)
        return f"oss://{key}"

    def download(self, url: str, dest: Path) -> tuple[int, str]:
        """Fetch a result video to ``dest``; return (size in bytes, sha256 hex).

        Bytes go to ``dest`` + ``.part`` and only a complete, length-checked file is renamed
        into place, so ``dest`` never holds half a video. A cut transfer resumes with Range.
        """
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        try:
            with part.open("wb") as sink:
                try:
                    response = self._transport.retrying(lambda: self._fetch_into(url, sink), progress=sink.tell)
                except (requests.RequestException, TruncatedBody) as exc:
                    raise DownloadError(f"The download kept failing: {_describe(exc)}.") from exc
            if response.status_code == 403:
                code, _, request_id = _error_fields(response)
                raise ResultExpiredError(
                    "The result URL has expired: the video can no longer be downloaded; "
                    "the task's result is gone after 24 h.",
                    status=403,
                    code=code,
                    request_id=request_id,
                )
            if response.status_code not in (200, 206):
                code, message, request_id = _error_fields(response)
                raise DownloadError(message, status=response.status_code, code=code, request_id=request_id)
            os.replace(part, dest)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        return _file_digest(dest)

    def _fetch_into(self, url: str, sink: IO[bytes]) -> requests.Response:
        """One download attempt, continuing from what ``sink`` already holds."""
        offset = sink.tell()
        headers = {"Accept-Encoding": "identity", **({"Range": f"bytes={offset}-"} if offset else {})}
        response = self._transport.once("GET", url, headers=headers, stream=True)  # never the API key
        if response.status_code == 200:  # a fresh copy (the server ignored Range): start over
            sink.seek(0)
            sink.truncate()
        elif response.status_code != 206:
            return response
        elif not response.headers.get("Content-Range", "").startswith(f"bytes {offset}-"):
            response.close()
            raise DownloadError(f"The server resumed at the wrong place: {response.headers.get('Content-Range')!r}.")
        expected = _expected_length(response, sink.tell())
        with response:
            for chunk in response.iter_content(DOWNLOAD_CHUNK):
                sink.write(chunk)
        if expected is not None and sink.tell() < expected:
            raise TruncatedBody(f"got {sink.tell()} of {expected} bytes")
        return response
