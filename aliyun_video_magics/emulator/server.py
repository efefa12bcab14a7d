"""A local HTTP server that behaves like DashScope's video API, for tests and keyless rehearsal.

It speaks the real wire format (paths, headers, bodies, error shapes, the OSS upload
flow, signed expiring result URLs) and can be scripted to fail in every way the real
service and network do, so the magics are exercised end to end without a key or a bill.
Times in task and list answers are UTC (the real Beijing service uses China time).
"""

from __future__ import annotations

import calendar
import contextlib
import hashlib
import hmac
import json
import logging
import math
import os
import re
import socket
import socketserver
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from aliyun_video_magics.emulator.faults import ENDPOINTS, Fault, default_error
from aliyun_video_magics.emulator.media import load_clips
from aliyun_video_magics.emulator.oss import (
    SIGNATURE_MISMATCH,
    Grant,
    OssError,
    UploadedObject,
    accept_upload,
    error_xml,
    issue,
    policy_data,
)
from aliyun_video_magics.emulator.rules import MODELS, Rejection, ResultSpec, check_submit, oss_urls

EMULATOR_API_KEY = "sk-emulator-rehearsal"
API_PREFIX = "/api/v1"
STATUSES = ("PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN")
TERMINAL = ("SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN")
Outcome = Literal["SUCCEEDED", "FAILED", "UNKNOWN"]
_DEFAULT_FAILURE = ("InternalError.Algo", "An error occurred while generating the video; please try again.")
_LIST_SPAN_SECONDS = 24 * 3600

log = logging.getLogger(__name__)


class _Headers(dict[str, str]):
    """Header names as the client sent them, looked up case-insensitively (clients differ)."""

    def _key(self, name: str) -> str:
        if dict.__contains__(self, name):
            return name
        return next((key for key in self if key.lower() == name.lower()), name)

    def __getitem__(self, name: str) -> str:
        return dict.__getitem__(self, self._key(name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and dict.__contains__(self, self._key(name))

    def get(self, name: str, default: Any = None) -> Any:
        return dict.get(self, self._key(name), default)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received (the API key masked), so tests can assert on the wire traffic."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    time: float

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class _TaskPlan:
    pending_seconds: float
    running_seconds: float
    outcome: Outcome
    code: str | None
    message: str | None


@dataclass
class Task:
    """One emulated task; its status follows from the wall clock unless forced."""

    task_id: str
    model: str
    payload: dict[str, Any]
    spec: ResultSpec
    request_id: str
    created: float
    pending_seconds: float
    running_seconds: float
    outcome: Outcome
    code: str | None = None
    message: str | None = None
    forced_status: str | None = None
    forced_at: float = 0.0

    def timeline(self, now: float) -> tuple[str, float | None, float | None]:
        """``(status, scheduled time, end time)`` as seen at ``now``."""
        run_at = self.created + self.pending_seconds
        if self.forced_status is not None:
            status, at = self.forced_status, self.forced_at
            never_ran = status == "PENDING" or (status == "CANCELED" and run_at > at)
            return status, None if never_ran else min(run_at, at), at if status in TERMINAL else None
        end_at = run_at + self.running_seconds
        if now < run_at:
            return "PENDING", None, None
        if now < end_at:
            return "RUNNING", run_at, None
        return self.outcome, run_at, end_at

    @property
    def status(self) -> str:
        """The status right now."""
        return self.timeline(time.time())[0]


@dataclass
class _Response:
    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Incoming:
    method: str
    path: str
    query: dict[str, str]
    headers: Message
    body: bytes


def _json(status: int, payload: dict[str, Any]) -> _Response:
    return _Response(status, json.dumps(payload, ensure_ascii=False).encode())


def _error(status: int, code: str, message: str, request_id: str) -> _Response:
    return _json(status, {"code": code, "message": message, "request_id": request_id})


def _xml(status: int, code: str, message: str, request_id: str) -> _Response:
    return _Response(status, error_xml(code, message, request_id), "application/xml")


def _clock(t: float) -> str:
    """DashScope's task time format, ``YYYY-MM-DD HH:MM:SS.mmm``."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}"


def _parse_list_time(value: str) -> float:
    """A list filter time, ``YYYYMMDDhhmmss`` in UTC, as epoch seconds."""
    if not re.fullmatch(r"\d{14}", value):
        raise Rejection(f"Invalid time {value!r}; use the format YYYYMMDDhhmmss.")
    try:
        return float(calendar.timegm(time.strptime(value, "%Y%m%d%H%M%S")))
    except ValueError:
        raise Rejection(f"Invalid time {value!r}; use the format YYYYMMDDhhmmss.") from None


def _page_number(query: dict[str, str], name: str, default: int) -> int:
    value = query.get(name, str(default))
    if not value.isdigit() or int(value) < 1:
        raise Rejection(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


class _Server(ThreadingHTTPServer):
    """Threaded, bound to 127.0.0.1, and able to stop while clients keep connections open."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, emulator: Emulator, port: int) -> None:
        self.emulator = emulator
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(("127.0.0.1", port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name, which can stall on odd DNS setups.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-request is routine here (timeouts, faults); keep stderr quiet.
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def close_open_sockets(self) -> None:
        """Wake handler threads blocked on idle keep-alive connections."""
        with self.sockets_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """Reads, records and answers one request (or misbehaves as scripted)."""

    protocol_version = "HTTP/1.1"
    server_version = "DashScopeEmulator/1.0"
    timeout = 60
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.client_address[0], *args)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        request = _Incoming(self.command, url.path, query, self.headers, self._read_body())
        emulator = self.server.emulator
        request_id = str(uuid.uuid4())
        endpoint, action = emulator._accept(request)
        fault = emulator._next_fault(endpoint)
        kind = fault.kind if fault is not None else None
        if kind == "drop":
            self.close_connection = True
            return
        if fault is not None and kind == "slow":
            time.sleep(fault.seconds)
        if fault is not None and kind == "status":
            response = emulator._fault_response(fault, endpoint, request_id)
        else:
            response = emulator._answer(action, request, request_id)
        if kind == "drop_after_accept":
            self.close_connection = True
            return
        self._write(response, request_id, fault.fraction if fault is not None and kind == "truncate" else None)

    def _write(self, response: _Response, request_id: str, fraction: float | None) -> None:
        body = response.body
        try:
            self.send_response(response.status)
            if response.content_type:
                self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-request-id", request_id)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if fraction is not None:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body if fraction is None else body[: int(len(body) * fraction)])
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. a read timeout during Fault.slow)


_Action = Callable[[_Incoming, str], _Response]


class Emulator:
    """DashScope on 127.0.0.1: start it, point the client at ``base_url``, script its faults."""

    def __init__(
        self,
        pending_seconds: float = 0.3,
        running_seconds: float = 0.7,
        url_ttl_seconds: float = 3600.0,
        port: int = 0,
        query_qps: float | None = 20,
        api_key: str = EMULATOR_API_KEY,
        max_upload_bytes: int = 1024**3,
    ) -> None:
        self.pending_seconds = pending_seconds
        self.running_seconds = running_seconds
        self.url_ttl_seconds = url_ttl_seconds
        self.query_qps = query_qps
        self.api_key = api_key
        self.max_upload_bytes = max_upload_bytes
        self._requested_port = port
        self._lock = threading.RLock()
        self._requests: list[RecordedRequest] = []
        self._tasks: dict[str, Task] = {}
        self._plans: deque[_TaskPlan] = deque()
        self._faults: dict[str, deque[Fault]] = {name: deque() for name in ENDPOINTS}
        self._queries: deque[float] = deque()
        self._grants: dict[str, Grant] = {}
        self._objects: dict[str, UploadedObject] = {}
        self._secret = os.urandom(16)
        self._clips = load_clips()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._routes: list[tuple[str, re.Pattern[str], str, Callable[..., _Response]]] = [
            ("POST", re.compile(r"/api/v1/services/aigc/(video-generation|image2video)/video-synthesis/?"),
             "submit", self._submit),
            ("GET", re.compile(r"/api/v1/tasks/([^/]+)/?"), "get", self._get_task),
            ("POST", re.compile(r"/api/v1/tasks/([^/]+)/cancel/?"), "cancel", self._cancel),
            ("GET", re.compile(r"/api/v1/tasks/?"), "list", self._list),
            ("GET", re.compile(r"/api/v1/uploads/?"), "policy", self._policy),
            ("POST", re.compile(r"/oss/?"), "upload", self._upload),
            ("GET", re.compile(r"/results/([^/]+)\.mp4"), "result", self._result),
        ]

    # ----- lifecycle -------------------------------------------------------------------

    def start(self) -> Emulator:
        """Bind and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        self._server = _Server(self, self._requested_port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="dashscope-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and free the port."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_open_sockets()
        server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port."""
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() first")
        return self._server.server_port

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>``: the host of uploads and result URLs."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The DashScope native API base to give the client."""
        return self.origin + API_PREFIX

    # ----- inspection and scripting ----------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def tasks(self) -> dict[str, Task]:
        """Every task created, by id."""
        with self._lock:
            return dict(self._tasks)

    @property
    def uploads(self) -> dict[str, UploadedObject]:
        """Every file stored through the OSS endpoint, by key (``oss://`` + key in submits)."""
        with self._lock:
            return dict(self._objects)

    def count(self, method: str, path: str) -> int:
        """How many requests had this method and a path starting with ``/api/v1`` + ``path``.

        ``/oss`` and ``/results`` (outside the API base) also match as given.
        """
        with self._lock:
            return sum(
                1
                for r in self._requests
                if r.method == method.upper() and (r.path.startswith(API_PREFIX + path) or r.path.startswith(path))
            )

    def script(self, endpoint: str, *faults: Fault) -> None:
        """Queue faults for an endpoint; each of its next requests consumes one, in order."""
        if endpoint not in self._faults:
            raise ValueError(f"unknown endpoint {endpoint!r}; use one of {', '.join(ENDPOINTS)}")
        with self._lock:
            self._faults[endpoint].extend(faults)

    def next_tasks(
        self,
        pending_seconds: float | None = None,
        running_seconds: float | None = None,
        outcome: Outcome = "SUCCEEDED",
        code: str | None = None,
        message: str | None = None,
    ) -> None:
        """Plan the next created task (one queue entry per call; unset times use the defaults)."""
        if outcome not in ("SUCCEEDED", "FAILED", "UNKNOWN"):
            raise ValueError(f"outcome must be SUCCEEDED, FAILED or UNKNOWN, not {outcome!r}")
        plan = _TaskPlan(
            self.pending_seconds if pending_seconds is None else pending_seconds,
            self.running_seconds if running_seconds is None else running_seconds,
            outcome,
            code,
            message,
        )
        with self._lock:
            self._plans.append(plan)

    def set_status(self, task_id: str, status: str, code: str | None = None, message: str | None = None) -> None:
        """Force an existing task into a status from now on (e.g. UNKNOWN as if it expired)."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        with self._lock:
            task = self._tasks[task_id]
            task.forced_status, task.forced_at = status, time.time()
            task.code = code or task.code
            task.message = message or task.message

    # ----- request plumbing (called by the handler) ------------------------------------

    def _accept(self, request: _Incoming) -> tuple[str | None, _Action]:
        """Record the request and find its endpoint name and action."""
        headers = _Headers(request.headers.items())
        if "Authorization" in headers:
            headers["Authorization"] = "Bearer ***"
        record = RecordedRequest(request.method, request.path, request.query, headers, request.body, time.time())
        with self._lock:
            self._requests.append(record)
        method = "GET" if request.method == "HEAD" else request.method
        for route_method, pattern, endpoint, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match and route_method == method:
                return endpoint, partial(handler, match=match)
        return None, lambda req, rid: _error(404, "NotFound", "url error, please check url!", rid)

    def _next_fault(self, endpoint: str | None) -> Fault | None:
        with self._lock:
            queue = self._faults.get(endpoint or "")
            return queue.popleft() if queue else None

    def _fault_response(self, fault: Fault, endpoint: str | None, request_id: str) -> _Response:
        headers = {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
        if isinstance(fault.body, str):
            try:
                json.loads(fault.body)
                content_type = "application/json"
            except ValueError:
                content_type = "text/plain; charset=utf-8"
            return _Response(fault.status_code, fault.body.encode(), content_type, headers)
        if fault.body is None:
            code, message = default_error(fault.status_code)
            if endpoint in ("upload", "result"):  # those are OSS, which answers in XML
                response = _xml(fault.status_code, code, message, request_id)
            else:
                response = _error(fault.status_code, code, message, request_id)
        else:
            response = _json(fault.status_code, {"request_id": request_id, **fault.body})
        response.headers.update(headers)
        return response

    def _answer(self, action: _Action, request: _Incoming, request_id: str) -> _Response:
        try:
            return action(request, request_id)
        except Rejection as rejection:
            return _error(rejection.status, rejection.code, rejection.message, request_id)
        except OssError as error:
            return _xml(error.status, error.code, error.message, request_id)
        except Exception:  # an emulator bug must still answer like a server would
            log.exception("emulator failed on %s %s", request.method, request.path)
            return _error(500, "InternalError", "The emulator failed; see its log.", request_id)

    def _authorize(self, request: _Incoming) -> None:
        if request.headers.get("Authorization", "") != f"Bearer {self.api_key}":
            raise Rejection("Invalid API-key provided.", code="InvalidApiKey", status=401)

    def _throttle(self) -> None:
        """The 20 QPS query limit, as a sliding one-second window over accepted queries."""
        if self.query_qps is None:
            return
        now = time.time()
        with self._lock:
            while self._queries and self._queries[0] <= now - 1.0:
                self._queries.popleft()
            if len(self._queries) >= self.query_qps:
                raise Rejection("Requests throttling triggered.", code="Throttling", status=429)
            self._queries.append(now)

    def _result_url(self, name: str, ended: float) -> str:
        expires = math.ceil(ended + self.url_ttl_seconds)
        return f"{self.origin}/results/{name}.mp4?Expires={expires}&Signature={self._url_signature(name, expires)}"

    def _url_signature(self, name: str, expires: int | str) -> str:
        return hmac.new(self._secret, f"{name}:{expires}".encode(), hashlib.sha1).hexdigest()

    # ----- endpoints -------------------------------------------------------------------

    def _submit(self, request: _Incoming, request_id: str, match: re.Match[str]) -> _Response:
        self._authorize(request)
        if request.headers.get("X-DashScope-Async", "").lower() != "enable":
            raise Rejection("current user api does not support synchronous calls", code="AccessDenied", status=403)
        try:
            body = json.loads(request.body)
        except ValueError:
            raise Rejection("The request body is not valid JSON.") from None
        spec = check_submit(body, image2video_path=match.group(1) == "image2video")
        model: str = body["model"]
        urls = oss_urls(body)
        if urls and request.headers.get("X-DashScope-OssResourceResolve", "").lower() != "enable":
            raise Rejection(
                "The request uses oss:// URLs, which are resolved only with the header "
                "X-DashScope-OssResourceResolve: enable."
            )
        with self._lock:
            for url in urls:
                stored = self._objects.get(url.removeprefix("oss://"))
                if stored is None:
                    raise Rejection(f"The file {url} does not exist; upload it first (getPolicy, then OSS).")
                if stored.model != model:
                    raise Rejection(
                        f"The file {url} was uploaded for model {stored.model}, not {model}; "
                        "temporary files only work with the model named in getPolicy."
                    )
            plan = self._plans.popleft() if self._plans else None
            task = Task(
                task_id=str(uuid.uuid4()),
                model=model,
                payload=body,
                spec=spec,
                request_id=request_id,
                created=time.time(),
                pending_seconds=self.pending_seconds if plan is None else plan.pending_seconds,
                running_seconds=self.running_seconds if plan is None else plan.running_seconds,
                outcome="SUCCEEDED" if plan is None else plan.outcome,
                code=None if plan is None else plan.code,
                message=None if plan is None else plan.message,
            )
            self._tasks[task.task_id] = task
        return _json(200, {"request_id": request_id, "output": {"task_id": task.task_id, "task_status": "PENDING"}})

    def _get_task(self, request: _Incoming, request_id: str, match: re.Match[str]) -> _Response:
        self._authorize(request)
        self._throttle()
        task_id = match.group(1)
        with self._lock:
            task = self._tasks.get(task_id)
            status, started, ended = task.timeline(time.time()) if task else ("UNKNOWN", None, None)
        if task is None or status == "UNKNOWN":
            return _json(200, {"request_id": request_id, "output": {"task_id": task_id, "task_status": "UNKNOWN"}})
        output: dict[str, Any] = {"task_id": task_id, "task_status": status, "submit_time": _clock(task.created)}
        if started is not None:
            output["scheduled_time"] = _clock(started)
        if ended is not None:
            output["end_time"] = _clock(ended)
        payload: dict[str, Any] = {"request_id": request_id, "output": output}
        if status == "FAILED":
            output["code"] = task.code or _DEFAULT_FAILURE[0]
            output["message"] = task.message or _DEFAULT_FAILURE[1]
        if status == "SUCCEEDED" and ended is not None:
            output["video_url"] = self._result_url(task_id, ended)
            if task.spec.family == "kling":
                output["watermark_video_url"] = self._result_url(task_id + "-watermark", ended)
            if task.spec.prompt is not None:
                output["orig_prompt"] = task.spec.prompt
            if task.spec.actual_prompt is not None:
                output["actual_prompt"] = task.spec.actual_prompt
            payload["usage"] = task.spec.usage()
        return _json(200, payload)

    def _cancel(self, request: _Incoming, request_id: str, match: re.Match[str]) -> _Response:
        self._authorize(request)
        with self._lock:
            task = self._tasks.get(match.group(1))
            now = time.time()
            if task is None or task.timeline(now)[0] != "PENDING":
                raise Rejection(
                    "Failed to cancel the task, please confirm if the task is in PENDING status.",
                    code="UnsupportedOperation",
                )
            task.forced_status, task.forced_at = "CANCELED", now
        return _json(200, {"request_id": request_id})

    def _list(self, request: _Incoming, request_id: str, match: re.Match[str]) -> _Response:
        self._authorize(request)
        self._throttle()
        query, now = request.query, time.time()
        page_no = _page_number(query, "page_no", 1)
        page_size = _page_number(query, "page_size", 10)
        end = _parse_list_time(query["end_time"]) + 1 if query.get("end_time") else now
        start = _parse_list_time(query["start_time"]) if query.get("start_time") else end - _LIST_SPAN_SECONDS
        if end - start > _LIST_SPAN_SECONDS + 1:
            raise Rejection("The span between start_time and end_time must not exceed 24 hours.")
        rows: list[dict[str, Any]] = []
        with self._lock:
            tasks = sorted(self._tasks.values(), key=lambda t: t.created, reverse=True)
        for task in tasks:
            status, started, ended = task.timeline(now)
            if status == "UNKNOWN" or not start <= task.created < end:
                continue
            if query.get("model_name") and task.model != query["model_name"]:
                continue
            if query.get("status") and status != query["status"].upper():
                continue
            row: dict[str, Any] = {
                "task_id": task.task_id,
                "status": status,
                "model_name": task.model,
                "region": "cn-beijing",
                "api_key_id": "emulator",
                "caller_uid": "1000000000000000",
                "caller_parent_id": "1000000000000000",
                "request_id": task.request_id,
                "gmt_create": int(task.created * 1000),
                "user_api_unique_key": f"apikey:v1:emulator:{task.model}",
            }
            if started is not None:
                row["start_time"] = int(started * 1000)
            if ended is not None:
                row["end_time"] = int(ended * 1000)
            rows.append(row)
        first = (page_no - 1) * page_size
        return _json(
            200,
            {
                "request_id": request_id,
                "total": len(rows),
                "total_page": math.ceil(len(rows) / page_size),
                "page_no": page_no,
                "page_size": page_size,
                "data": rows[first : first + page_size],
            },
        )

    def _policy(self, request: _Incoming, request_id: str, match: re.Match[str]) -> _Response:
        self._authorize(request)
        if request.query.get("action") != "getPolicy":
            raise Rejection(f"Unsupported action {request.query.get('action')!r}; use action=getPolicy.")
        model = request.query.get("model")
        if not model:
            raise Rejection('Required parameter "model" missing from request.', code="BadRequest.EmptyModel")
        if model not in MODELS:
            raise Rejection("Model not exist.")
        grant = issue(self._secret, self.api_key, model, self.max_upload_bytes, time.time())
        with self._lock:
            self._grants[grant.policy] = grant
        return _json(
            200,
            {"request_id": request_id, "data": policy_data(grant, self.origin + "/oss", self.max_upload_bytes)},
        )

    def _upload(self, request: _Incoming, request_id: str, match: re.Match[str]) -> _Response:
        content_type = request.headers.get("Content-Type", "")
        with self._lock:
            stored = accept_upload(self._secret, content_type, request.body, self._grants, self._objects, time.time())
            self._objects[stored.key] = stored
        return _Response(200, b"", None)

    def _result(self, request: _Incoming, request_id: str, match: re.Match[str]) -> _Response:
        name = match.group(1)
        expires, signature = request.query.get("Expires"), request.query.get("Signature")
        if not expires or not signature:
            message = "You have no right to access this object because of bucket acl."
            return _xml(403, "AccessDenied", message, request_id)
        if not hmac.compare_digest(signature, self._url_signature(name, expires)):
            return _xml(403, "SignatureDoesNotMatch", SIGNATURE_MISMATCH, request_id)
        with self._lock:
            task = self._tasks.get(name.removesuffix("-watermark"))
            status, _, ended = task.timeline(time.time()) if task else ("UNKNOWN", None, None)
        if task is None or status != "SUCCEEDED" or ended is None:
            return _xml(404, "NoSuchKey", "The specified key does not exist.", request_id)
        if time.time() > ended + self.url_ttl_seconds:
            return _xml(403, "AccessDenied", "Request has expired.", request_id)
        data = self._clips[task.spec.ratio]
        headers = {"Accept-Ranges": "bytes"}
        wanted = re.fullmatch(r"bytes=(\d*)-(\d*)", request.headers.get("Range", "").strip())
        if wanted is None or wanted.group(1) == wanted.group(2) == "":
            return _Response(200, data, "video/mp4", headers)
        total = len(data)
        if wanted.group(1):
            first = int(wanted.group(1))
            last = min(int(wanted.group(2)), total - 1) if wanted.group(2) else total - 1
        else:
            first, last = max(0, total - int(wanted.group(2))), total - 1
        if first >= total or last < first:
            response = _xml(416, "InvalidRange", "The requested range is not satisfiable.", request_id)
            response.headers["Content-Range"] = f"bytes */{total}"
            return response
        headers["Content-Range"] = f"bytes {first}-{last}/{total}"
        return _Response(206, data[first : last + 1], "video/mp4", headers)
