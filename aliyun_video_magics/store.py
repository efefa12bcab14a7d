"""What must outlive the kernel: the task journal, the downloaded videos and their evidence.

The journal is SQLite (WAL, busy timeout) so two kernels can write at once. A task is
recorded *before* the submit POST goes out and updated as it moves, so a restart, a lost
answer or a re-run finds it instead of paying for a second one.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
import unicodedata
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SESSION_ID = uuid.uuid4().hex  # one per kernel process: "this session" in %video usage

# Journal statuses beyond the service's own: a submit whose answer was lost is UNCLEAR.
SUBMITTING = "SUBMITTING"
UNCLEAR = "UNCLEAR"
LIVE = ("SUBMITTING", "PENDING", "RUNNING", "UNCLEAR")

_COLUMNS = (
    "id", "request_hash", "task_id", "magic", "region", "base_url", "model", "endpoint", "prompt",
    "request_json", "status", "created_at", "updated_at", "sent_at", "submit_request_id", "estimate_seconds",
    "billable_seconds", "usage_json", "video_url", "url_expires_at", "video_path", "evidence_path",
    "error_code", "error_message", "session_id",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_hash TEXT NOT NULL,
    task_id TEXT,
    magic TEXT NOT NULL,
    region TEXT NOT NULL,
    base_url TEXT NOT NULL,
    model TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    prompt TEXT NOT NULL,
    request_json TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    sent_at REAL,
    submit_request_id TEXT,
    estimate_seconds REAL NOT NULL DEFAULT 0,
    billable_seconds REAL,
    usage_json TEXT,
    video_url TEXT,
    url_expires_at REAL,
    video_path TEXT,
    evidence_path TEXT,
    error_code TEXT,
    error_message TEXT,
    session_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_hash ON tasks (request_hash);
CREATE UNIQUE INDEX IF NOT EXISTS tasks_task_id ON tasks (task_id) WHERE task_id IS NOT NULL;
"""


def default_journal_path() -> Path:
    """``$ALIYUN_VIDEO_MAGICS_JOURNAL``, else the user's data folder (XDG), shared by all notebooks."""
    explicit = os.environ.get("ALIYUN_VIDEO_MAGICS_JOURNAL")
    if explicit:
        return Path(explicit).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "aliyun_video_magics" / "journal.sqlite3"


@dataclass
class JournalEntry:
    """One row of the journal."""

    id: int
    request_hash: str
    task_id: str | None
    magic: str
    region: str
    base_url: str
    model: str
    endpoint: str
    prompt: str
    request_json: str
    status: str
    created_at: float
    updated_at: float
    sent_at: float | None
    submit_request_id: str | None
    estimate_seconds: float
    billable_seconds: float | None
    usage_json: str | None
    video_url: str | None
    url_expires_at: float | None
    video_path: str | None
    evidence_path: str | None
    error_code: str | None
    error_message: str | None
    session_id: str

    @property
    def usage(self) -> dict[str, Any]:
        return json.loads(self.usage_json) if self.usage_json else {}

    @property
    def request(self) -> dict[str, Any]:
        return json.loads(self.request_json)

    def file_exists(self) -> bool:
        return bool(self.video_path) and Path(self.video_path or "").is_file()

    def url_valid(self, now: float | None = None) -> bool:
        return bool(self.video_url) and (self.url_expires_at or 0) > (now or time.time())


class Journal:
    """The durable record of every task this user's kernels created or attached to."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path else default_journal_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._create()

    def _create(self) -> None:
        """Create the file once, even when several kernels start at the same moment.

        Switching to WAL answers "locked" at once instead of waiting for the busy timeout,
        so that one step is retried here; WAL then stays set in the file.
        """
        deadline = time.monotonic() + 30.0
        while True:
            try:
                with closing(self._connect()) as db:
                    db.execute("PRAGMA journal_mode=WAL")
                    db.executescript(_SCHEMA)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        db.execute("PRAGMA busy_timeout=30000")
        db.row_factory = sqlite3.Row
        return db

    def _rows(self, sql: str, args: tuple[Any, ...] = ()) -> list[JournalEntry]:
        with closing(self._connect()) as db:
            return [JournalEntry(**dict(row)) for row in db.execute(sql, args).fetchall()]

    def _write(self, sql: str, args: tuple[Any, ...]) -> int:
        with closing(self._connect()) as db:
            cursor = db.execute(sql, args)
            return int(cursor.lastrowid or 0)

    def add(self, *, request_hash: str, magic: str, region: str, base_url: str, model: str, endpoint: str,
            prompt: str, request: dict[str, Any], status: str, estimate_seconds: float,
            task_id: str | None = None, sent_at: float | None = None) -> int:
        """Record a task (or a submit about to go out); returns the row id."""
        now = time.time()
        return self._write(
            "INSERT INTO tasks (request_hash, task_id, magic, region, base_url, model, endpoint, prompt, "
            "request_json, status, created_at, updated_at, sent_at, estimate_seconds, session_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (request_hash, task_id, magic, region, base_url, model, endpoint, prompt,
             json.dumps(request, ensure_ascii=False), status, now, now, sent_at, estimate_seconds, SESSION_ID),
        )

    def update(self, row_id: int, **fields: Any) -> None:
        """Set some columns of one row (``usage`` is given as a dict)."""
        if "usage" in fields:
            fields["usage_json"] = json.dumps(fields.pop("usage"), ensure_ascii=False)
        unknown = set(fields) - set(_COLUMNS)
        if unknown:
            raise KeyError(f"not journal columns: {sorted(unknown)}")
        fields["updated_at"] = time.time()
        names = ", ".join(f"{name} = ?" for name in fields)
        self._write(f"UPDATE tasks SET {names} WHERE id = ?", (*fields.values(), row_id))

    def get(self, row_id: int) -> JournalEntry:
        rows = self._rows("SELECT * FROM tasks WHERE id = ?", (row_id,))
        if not rows:
            raise KeyError(row_id)
        return rows[0]

    def by_task_id(self, task_id: str) -> JournalEntry | None:
        rows = self._rows("SELECT * FROM tasks WHERE task_id = ?", (task_id,))
        return rows[0] if rows else None

    def latest_for(self, request_hash: str, base_url: str) -> JournalEntry | None:
        """The newest entry for this exact request on this service that can still be reused."""
        rows = self._rows(
            "SELECT * FROM tasks WHERE request_hash = ? AND base_url = ? "
            "AND status IN ('SUCCEEDED', 'SUBMITTING', 'PENDING', 'RUNNING', 'UNCLEAR') "
            "ORDER BY id DESC LIMIT 1",
            (request_hash, base_url),
        )
        return rows[0] if rows else None

    def typical_seconds(self, model: str, base_url: str) -> float | None:
        """Median wall time of this model's finished tasks on this service: the best ETA we have."""
        rows = self._rows(
            "SELECT * FROM tasks WHERE model = ? AND base_url = ? AND status = 'SUCCEEDED' "
            "AND sent_at IS NOT NULL ORDER BY id DESC LIMIT 9", (model, base_url))
        spans = sorted(row.updated_at - (row.sent_at or row.updated_at) for row in rows)
        return spans[len(spans) // 2] if spans else None

    def entries(self, limit: int = 50) -> list[JournalEntry]:
        return self._rows("SELECT * FROM tasks ORDER BY id DESC LIMIT ?", (limit,))

    def billable_by_model(self) -> list[tuple[str, float, float]]:
        """(model, seconds this session, seconds all time); estimates count until usage is known."""
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT model, "
                "SUM(CASE WHEN session_id = ? THEN COALESCE(billable_seconds, estimate_seconds) ELSE 0 END), "
                "SUM(COALESCE(billable_seconds, estimate_seconds)) "
                "FROM tasks WHERE (task_id IS NOT NULL OR status IN ('SUBMITTING', 'UNCLEAR')) "
                "AND status NOT IN ('CANCELED', 'FAILED') GROUP BY model ORDER BY model",
                (SESSION_ID,),
            ).fetchall()
        return [(row[0], float(row[1] or 0), float(row[2] or 0)) for row in rows]

    def session_billable(self) -> float:
        return sum(session for _, session, _ in self.billable_by_model())


def slug(text: str, limit: int = 40) -> str:
    """A file-name-safe short form of a prompt (ASCII letters and digits, dashes)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower()
    return (words[:limit].rstrip("-")) or "video"


def output_folder(magic: str, output_dir: str | None) -> Path:
    """``output_dir`` setting, else ``$OUTPUT_DIR``, else ``output``; then ``<magic>/videos``."""
    base = output_dir or os.environ.get("OUTPUT_DIR") or "output"
    return Path(base).expanduser() / magic / "videos"


def video_path(folder: Path, prompt: str, task_id: str, when: float | None = None) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when or time.time()))
    return folder / f"{stamp}_{slug(prompt)}_{task_id[:8]}.mp4"


def write_evidence(path: Path, evidence: dict[str, Any]) -> None:
    """Write the evidence file atomically so a crash never leaves half a JSON beside a video."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_text(json.dumps(evidence, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)

