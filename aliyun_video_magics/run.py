"""One generation end to end, with no IPython: the magics and the plain Python API call this.

validate -> reuse what the journal already has -> spending guard -> upload -> journal ->
submit (once) -> poll -> download -> evidence -> result. The submit POST is never sent
twice: a re-run finds the journal's entry (finished, still running, or with its answer
lost) before it would ever submit again.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from .cell import ParsedCell, options_from_kwargs
from .client import DashScopeClient
from .display import DryRun, Reporter, TextReporter
from .errors import (
    CancelNotPossibleError,
    DashScopeError,
    PollTimeoutError,
    ResultExpiredError,
    SubmissionUnclearError,
    TaskCanceledError,
    TaskFailedError,
    TaskUnknownError,
    VideoUsageError,
)
from .polling import TaskHint, estimate_seconds
from .request import VideoRequest, build_request
from .result import DEFAULT_EMBED_MAX_MB, VideoResult
from .store import SUBMITTING, UNCLEAR, Journal, JournalEntry, output_folder, video_path, write_evidence

URL_LIFETIME_SECONDS = 24 * 3600  # the service's result URLs live about 24 hours
TERMINAL_ERRORS = ((TaskFailedError, "FAILED"), (TaskCanceledError, "CANCELED"), (TaskUnknownError, "UNKNOWN"))


@dataclass
class Settings:
    """Everything a run needs besides the request; ``VideoMagics`` traits map onto these."""

    output_dir: str | None = None
    embed_max_mb: float = DEFAULT_EMBED_MAX_MB
    timeout: float = 1800.0
    poll_min_seconds: float = 2.0
    poll_max_seconds: float = 30.0
    region: str = "cn-beijing"
    base_url: str | None = None  # overrides DASHSCOPE_HTTP_BASE_URL / DASHSCOPE_BASE_URL
    default_models: dict[str, str] = field(default_factory=dict)
    max_billable_seconds: float | None = None
    journal_path: str | None = None
    connect_timeout: float = 5.0
    read_timeout: float = 30.0


class InterruptedTaskError(DashScopeError):
    """Ctrl-C while a task was running: it goes on, and will be billed."""


def generate(magic: str, prompt: str = "", *, settings: Settings | None = None,
             reporter: Reporter | None = None, **options: Any) -> VideoResult | DryRun:
    """The plain Python API: ``generate("vidu", "A cat", resolution="540P", ratio="16:9")``."""
    parsed = ParsedCell(options=options_from_kwargs(options), prompt=prompt)
    return execute(magic, parsed, settings or Settings(), reporter)


def execute(magic: str, parsed: ParsedCell, settings: Settings,
            reporter: Reporter | None = None) -> VideoResult | DryRun:
    request = build_request(magic, parsed, region=settings.region,
                            default_model=settings.default_models.get(magic))
    client = _client(request.region, settings)
    if request.dry_run:
        return DryRun(request, client.base_url)
    reporter = reporter or TextReporter()
    journal = Journal(settings.journal_path)
    request_hash = request.request_hash()
    if not request.force:
        earlier = journal.latest_for(request_hash, client.base_url)
        if earlier is not None:
            return _reuse(earlier, request, client, journal, settings, reporter)
    _guard_spending(journal, request, settings)
    urls = {path: client.upload(path, request.model.name) for path in request.local_files}
    payload = request.payload_with(urls)
    row = journal.add(
        request_hash=request_hash, magic=magic, region=request.region, base_url=client.base_url,
        model=request.model.name, endpoint=request.endpoint_path, prompt=request.prompt, request=payload,
        status=SUBMITTING, estimate_seconds=request.duration,
    )
    try:
        submission = client.submit(payload, endpoint_path=request.endpoint_path)
    except SubmissionUnclearError as exc:
        journal.update(row, status=UNCLEAR, sent_at=exc.sent_at, error_message=exc.message)
        raise
    except BaseException as exc:  # refused, or never sent: no task exists
        journal.update(row, status="REJECTED", error_code=getattr(exc, "code", None), error_message=str(exc))
        raise
    journal.update(row, task_id=submission.task_id, status=submission.task_status, sent_at=submission.sent_at,
                   submit_request_id=submission.request_id)
    return follow(client, journal, row, settings, reporter, request=request)


def fetch(task_id: str, settings: Settings, reporter: Reporter | None = None) -> VideoResult:
    """Attach to any task of the account by id: poll it, download it, keep it."""
    journal = Journal(settings.journal_path)
    entry = journal.by_task_id(task_id)
    reporter = reporter or TextReporter()
    if entry is not None:
        client = _client(entry.region, settings, base_url=entry.base_url)
        if entry.status == "SUCCEEDED":
            return _reuse(entry, None, client, journal, settings, reporter)
        return follow(client, journal, entry.id, settings, reporter)
    client = _client(settings.region, settings)
    row = journal.add(
        request_hash=f"fetch:{task_id}", magic="fetch", region=settings.region, base_url=client.base_url,
        model=_listed_model(client, task_id), endpoint="", prompt="", request={}, status="PENDING",
        estimate_seconds=0, task_id=task_id,
    )
    return follow(client, journal, row, settings, reporter)


def _listed_model(client: DashScopeClient, task_id: str) -> str:
    """The model of a task this journal never saw, from the account's task list (last 24 h)."""
    now = time.time()
    try:
        listing = client.list_tasks(start=now - URL_LIFETIME_SECONDS + 60, end=now, page_size=50)
    except DashScopeError:
        return "(fetched by id)"
    found = [item for item in listing.get("data", []) if item.get("task_id") == task_id]
    return str(found[0].get("model_name") or "(fetched by id)") if found else "(fetched by id)"


def cancel(task_id: str, settings: Settings) -> str:
    """Cancel a PENDING task by id; returns a sentence saying what happened."""
    journal = Journal(settings.journal_path)
    entry = journal.by_task_id(task_id)
    client = (_client(entry.region, settings, base_url=entry.base_url) if entry
              else _client(settings.region, settings))
    client.cancel(task_id)
    if entry is not None:
        journal.update(entry.id, status="CANCELED")
    return f"task {task_id} cancelled; it will not be billed"


def _client(region: str, settings: Settings, base_url: str | None = None) -> DashScopeClient:
    return DashScopeClient(region=region, base_url=base_url or settings.base_url,
                           connect_timeout=settings.connect_timeout, read_timeout=settings.read_timeout)


def _guard_spending(journal: Journal, request: VideoRequest, settings: Settings) -> None:
    limit = settings.max_billable_seconds
    if limit is None:
        return
    used = journal.session_billable()
    if used + request.duration > limit:
        raise VideoUsageError(
            f"spending guard: this {request.duration} s video would bring this session to "
            f"{used + request.duration:g} billable seconds; max_billable_seconds is {limit:g} "
            f"(already {used:g}). Raise it with %config VideoMagics.max_billable_seconds = N"
        )


def _reuse(entry: JournalEntry, request: VideoRequest | None, client: DashScopeClient, journal: Journal,
           settings: Settings, reporter: Reporter) -> VideoResult:
    """Show, re-download, re-attach to or recover an earlier task instead of paying again."""
    if entry.status == "SUCCEEDED":
        if entry.file_exists():
            reporter.finished("CACHED", f"Cached result from {_when(entry.created_at)} (task {entry.task_id}); "
                              "nothing was sent. Add --force for a fresh, billed generation.")
            return _result_from_journal(entry, settings, cached=True)
        if entry.url_valid():
            reporter.note(f"The earlier video file is gone; downloading task {entry.task_id} again.")
            return _deliver(client, journal, entry.id, client.get_task(entry.task_id or ""), settings, [], reporter)
        journal.update(entry.id, status="EXPIRED")
        reporter.finished("EXPIRED", "the video file is gone and its URL has expired; see below")
        raise ResultExpiredError(
            f"task {entry.task_id} succeeded on {_when(entry.created_at)}, but its file is gone and its "
            "URL has expired (about 24 h), so the video cannot be recovered. Re-run with --force to "
            "generate it again (billed).", task_id=entry.task_id)
    if entry.status in (UNCLEAR, SUBMITTING) or entry.task_id is None:
        found = client.find_submitted(entry.model, entry.sent_at or entry.created_at)
        if not found:
            raise DashScopeError(
                f"An earlier submit of this exact request (at {_when(entry.sent_at or entry.created_at)}) "
                "lost its answer, and the task list shows no such task. Nothing was sent now, so nothing "
                "is billed twice. Re-run with --force to submit it again.")
        task_id = str(found[0]["task_id"])
        reporter.note(f"Found task {task_id} from the earlier submit whose answer was lost; following it.")
        journal.update(entry.id, task_id=task_id, status=str(found[0].get("status", "PENDING")))
    else:
        reporter.note(f"Re-attached to task {entry.task_id}, submitted {_when(entry.created_at)}; "
                      "nothing new was submitted.")
    return follow(client, journal, entry.id, settings, reporter, request=request)


def follow(client: DashScopeClient, journal: Journal, row: int, settings: Settings, reporter: Reporter,
           request: VideoRequest | None = None) -> VideoResult:
    """Poll a journaled task to its end, with cancel and Ctrl-C handled, and deliver the video."""
    entry = journal.get(row)
    task_id = entry.task_id or ""
    estimate = journal.typical_seconds(entry.model, entry.base_url) or (
        estimate_seconds(entry.model, request.duration, request.resolution) if request else None)
    reporter.submitted(task_id, entry.model, estimate)
    timeline: list[dict[str, Any]] = []
    status = [entry.status]

    def on_update(task: dict[str, Any], elapsed: float) -> None:
        now = str(task.get("output", {}).get("task_status", "UNKNOWN"))
        if now != status[0] or not timeline:
            timeline.append({"status": now, "elapsed": round(elapsed, 1), "at": time.time()})
            journal.update(row, status=now)
            status[0] = now
        reporter.polled(now, elapsed)
        if reporter.cancel_requested() and now == "PENDING":
            _try_cancel(client, task_id, reporter)

    timeout = request.timeout if request and request.timeout else settings.timeout
    hint = TaskHint(expected_seconds=estimate) if estimate else None
    try:
        final = client.wait(task_id, on_update=on_update, timeout=timeout, hint=hint, sleep=reporter.sleep,
                            min_wait=settings.poll_min_seconds, max_wait=settings.poll_max_seconds)
    except KeyboardInterrupt:
        raise _interrupted(client, journal, row, task_id, status[0], reporter) from None
    except DashScopeError as exc:
        name = next((status for kind, status in TERMINAL_ERRORS if isinstance(exc, kind)), None)
        if name:
            journal.update(row, status=name, error_code=exc.code, error_message=exc.message)
        reporter.finished(name or ("TIMEOUT" if isinstance(exc, PollTimeoutError) else "ERROR"), "see below")
        raise
    return _deliver(client, journal, row, final, settings, timeline, reporter)


def _try_cancel(client: DashScopeClient, task_id: str, reporter: Reporter) -> None:
    try:
        client.cancel(task_id)
        reporter.note("Cancel requested: the task was still PENDING.")
    except CancelNotPossibleError:
        reporter.note("The task has started running and can no longer be cancelled; it keeps going.")
    reporter.cancel_handled()


def _interrupted(client: DashScopeClient, journal: Journal, row: int, task_id: str, status: str,
                 reporter: Reporter) -> DashScopeError:
    """Ctrl-C: cancel a PENDING task; say plainly that a RUNNING one goes on and is billed."""
    if status == "PENDING":
        try:
            client.cancel(task_id)
            journal.update(row, status="CANCELED")
            text = "Interrupted while PENDING: the task was cancelled and will not be billed."
            reporter.finished("CANCELED", text)
            return TaskCanceledError(text, task_id=task_id)
        except CancelNotPossibleError:
            status = "RUNNING"
        except DashScopeError as exc:
            text = f"Interrupted; cancelling failed ({exc}). The task may go on and be billed."
            reporter.finished("INTERRUPTED", text)
            return InterruptedTaskError(text, task_id=task_id)
    text = (f"Interrupted while {status}: the task goes on at the service and will be billed. "
            f"Fetch it later with %video fetch {task_id} (results are kept about 24 h).")
    reporter.finished("INTERRUPTED", text)
    return InterruptedTaskError(text, task_id=task_id)


def _expiry(url: str, ended: float) -> float:
    """The signed URL's ``Expires`` (epoch seconds) when it has one, else 24 h after the end."""
    expires = parse_qs(urlparse(url).query).get("Expires")
    try:
        return float(expires[0]) if expires else ended + URL_LIFETIME_SECONDS
    except ValueError:
        return ended + URL_LIFETIME_SECONDS


def _deliver(client: DashScopeClient, journal: Journal, row: int, final: dict[str, Any], settings: Settings,
             timeline: list[dict[str, Any]], reporter: Reporter | None = None) -> VideoResult:
    """Download the MP4 at once, write the evidence file beside it, update the journal."""
    entry = journal.get(row)
    output = final.get("output", {})
    url = str(output.get("video_url") or "")
    usage = dict(final.get("usage") or {})
    journal.update(row, status="SUCCEEDED", usage=usage, video_url=url, url_expires_at=_expiry(url, time.time()),
                   billable_seconds=usage.get("duration", usage.get("video_duration")))
    if not url:
        raise DashScopeError("the task SUCCEEDED but the service gave no video_url", task_id=entry.task_id)
    task_id = entry.task_id or ""
    folder = output_folder(entry.magic, settings.output_dir)
    dest = video_path(folder, entry.prompt or task_id, task_id)
    try:
        size, digest = client.download(url, dest)
    except DashScopeError as exc:
        expired = isinstance(exc, ResultExpiredError)
        journal.update(row, status="EXPIRED" if expired else "SUCCEEDED", error_code=exc.code,
                       error_message=exc.message)
        exc.task_id = exc.task_id or task_id
        if reporter is not None:
            reporter.finished("EXPIRED" if expired else "ERROR", "the download failed; see below")
        raise
    evidence = dest.with_suffix(".json")
    finished = time.time()
    write_evidence(evidence, {
        "task_id": task_id,
        "model": entry.model,
        "region": entry.region,
        "endpoint": entry.base_url.rstrip("/") + entry.endpoint,
        "request": entry.request,
        "prompt": entry.prompt,
        "request_ids": {"submit": entry.submit_request_id, "final_query": final.get("request_id")},
        "status_timeline": timeline,
        "final_response": final,
        "usage": usage,
        "video": {"file": dest.name, "size_bytes": size, "sha256": digest, "source_url_expires_at": _expiry(url, finished)},
        "submitted_at": entry.sent_at or entry.created_at,
        "finished_at": finished,
    })
    journal.update(row, video_path=str(dest.resolve()), evidence_path=str(evidence.resolve()))
    if reporter is not None:
        reporter.finished("SUCCEEDED", f"saved {dest}")
    return _result_from_journal(journal.get(row), settings, final=final, size=size, digest=digest)


def _result_from_journal(entry: JournalEntry, settings: Settings, *, cached: bool = False,
                         final: dict[str, Any] | None = None, size: int | None = None,
                         digest: str | None = None) -> VideoResult:
    evidence: dict[str, Any] = {}
    if final is None and entry.evidence_path and Path(entry.evidence_path).is_file():
        evidence = json.loads(Path(entry.evidence_path).read_text(encoding="utf-8"))
        final = evidence.get("final_response")
        size = evidence.get("video", {}).get("size_bytes")
        digest = evidence.get("video", {}).get("sha256")
    output = (final or {}).get("output", {})
    started = entry.sent_at or entry.created_at
    return VideoResult(
        path=Path(entry.video_path or ""), task_id=entry.task_id or "", model=entry.model, status="SUCCEEDED",
        prompt=entry.prompt, usage=entry.usage, request=entry.request, url=entry.video_url,
        actual_prompt=output.get("actual_prompt"), evidence_path=Path(entry.evidence_path) if entry.evidence_path else None,
        region=entry.region, submitted_at=started, finished_at=entry.updated_at,
        wall_seconds=(evidence.get("finished_at") or entry.updated_at) - started if started else None,
        size_bytes=size, sha256=digest, cached_from=entry.created_at if cached else None,
        embed_max_mb=settings.embed_max_mb,
    )


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp or 0))
