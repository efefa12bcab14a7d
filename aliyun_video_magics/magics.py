"""The IPython layer, kept thin: parse the cell, call ``run``, display what comes back.

``VideoMagics`` is a traitlets ``Configurable``, so ``%config VideoMagics.output_dir = ...``
and ``c.VideoMagics.x`` in a config file work with no extra code. Bad input surfaces as a
one-line ``UsageError``; a failed task as one short block with its ids.
"""

from __future__ import annotations

import functools
import shlex
from typing import Any, Callable

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.display import display
from traitlets import Dict, Float, Unicode

from . import run
from .catalog import MAGICS, MODELS
from .cell import parse_cell, usage_text
from .display import Failure, reporter_for_environment
from .errors import DashScopeError, VideoUsageError
from .store import Journal, default_journal_path

VIDEO_HELP = """%video SUBCOMMAND

  %video models [vidu|kling|wan]   the model catalog: modes, durations, resolutions, regions
  %video config                    current settings (never the key)
  %video tasks [N]                 the task journal, newest first
  %video fetch TASK_ID [-o NAME]   attach to any task of the account: poll, download, show
  %video cancel TASK_ID            cancel a PENDING task
  %video usage                     billable seconds per model, this session and all time
  %video emulator [stop]           rehearse without a key: start the built-in DashScope emulator
"""


def _one_line_errors(method: Callable[..., Any]) -> Callable[..., Any]:
    """IPython prints a bare ``UsageError`` as one line, but a subclass with a traceback."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except VideoUsageError as exc:
            raise UsageError(str(exc)) from None

    return wrapper


@magics_class
class VideoMagics(Magics):
    """%%vidu, %%kling, %%wan and %video.

    The three generation magics also work as line magics (``%vidu --help``, or a one-liner
    with ``--prompt "..."``), because IPython refuses a cell magic with an empty body.
    """

    output_dir = Unicode("", help="Folder for videos; empty: $OUTPUT_DIR or ./output, then <magic>/videos").tag(config=True)
    embed_max_mb = Float(20.0, help="Embed videos up to this size (MB) so saved notebooks play anywhere").tag(config=True)
    timeout = Float(1800.0, help="Stop waiting for a task after this many seconds (it goes on)").tag(config=True)
    poll_min_seconds = Float(2.0, help="Shortest wait between status requests").tag(config=True)
    poll_max_seconds = Float(30.0, help="Longest wait between status requests").tag(config=True)
    region = Unicode("cn-beijing", help="Default region: cn-beijing, ap-southeast-1 or us-east-1").tag(config=True)
    base_url = Unicode("", help="Service base URL; empty: $DASHSCOPE_HTTP_BASE_URL, $DASHSCOPE_BASE_URL, or the region's").tag(config=True)
    default_models = Dict(default_value={}, help="Default model per magic, e.g. {'vidu': 'q3-pro'}").tag(config=True)
    max_billable_seconds = Float(0.0, help="Refuse submissions past this many billable seconds this session (0: no limit)").tag(config=True)
    journal_path = Unicode("", help="Task journal (SQLite); empty: $ALIYUN_VIDEO_MAGICS_JOURNAL or the user data folder").tag(config=True)

    def settings(self) -> run.Settings:
        return run.Settings(
            output_dir=self.output_dir or None, embed_max_mb=self.embed_max_mb, timeout=self.timeout,
            poll_min_seconds=self.poll_min_seconds, poll_max_seconds=self.poll_max_seconds,
            region=self.region, base_url=self.base_url or None, default_models=dict(self.default_models),
            max_billable_seconds=self.max_billable_seconds or None, journal_path=self.journal_path or None,
        )

    @_one_line_errors
    def _generate(self, magic: str, line: str, cell: str | None) -> Any:
        if _wants_help(line):
            print(usage_text(magic))
            return None
        parsed = parse_cell(line, cell)
        try:
            result = run.execute(magic, parsed, self.settings(), reporter_for_environment())
        except DashScopeError as exc:
            display(Failure(_failure_title(exc), exc))
            return None
        out = parsed.options.get("out")
        if out:
            self.shell.user_ns[out] = result
        return result

    @no_var_expand
    @line_cell_magic
    def vidu(self, line: str, cell: str | None = None) -> Any:
        return self._generate("vidu", line, cell)

    @no_var_expand
    @line_cell_magic
    def kling(self, line: str, cell: str | None = None) -> Any:
        return self._generate("kling", line, cell)

    @no_var_expand
    @line_cell_magic
    def wan(self, line: str, cell: str | None = None) -> Any:
        return self._generate("wan", line, cell)

    @line_magic
    @_one_line_errors
    def video(self, line: str) -> Any:
        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise VideoUsageError(f"cannot read {line!r}: {exc}") from None
        if not words or words[0] in ("help", "-h", "--help"):
            print(VIDEO_HELP)
            return None
        command = _SUBCOMMANDS.get(words[0])
        if command is None:
            raise VideoUsageError(f"unknown %video subcommand {words[0]!r}; try: {', '.join(_SUBCOMMANDS)}")
        return command(self, words[1:])

    # -- %video subcommands

    def _models(self, args: list[str]) -> Any:
        from .display import catalog_table

        wanted = [a for a in args if a in MAGICS] or list(MAGICS)
        return catalog_table([m for m in MODELS if m.magic in wanted])

    def _config(self, args: list[str]) -> None:
        names = [n for n in self.trait_names() if self.trait_metadata(n, "config")]
        for name in sorted(names):
            print(f"VideoMagics.{name} = {getattr(self, name)!r}")
        print(f"journal file: {self.journal_path or default_journal_path()}")
        print("API key: read per request from $DASHSCOPE_API_KEY, $DASHSCOPE_API_KEY_FILE_PATH, "
              "~/.dashscope/api_key or ~/.alibabacloud/credentials (never shown)")

    def _tasks(self, args: list[str]) -> Any:
        from .display import journal_table

        limit = int(args[0]) if args and args[0].isdigit() else 20
        return journal_table(Journal(self.settings().journal_path).entries(limit))

    def _fetch(self, args: list[str]) -> Any:
        if not args:
            raise VideoUsageError("%video fetch needs a task id: %video fetch TASK_ID [-o NAME]")
        out = args[2] if len(args) >= 3 and args[1] in ("-o", "--out") else None
        try:
            result = run.fetch(args[0], self.settings(), reporter=reporter_for_environment())
        except DashScopeError as exc:
            display(Failure(_failure_title(exc), exc))
            return None
        if out:
            self.shell.user_ns[out] = result
        return result

    def _cancel(self, args: list[str]) -> None:
        if len(args) != 1:
            raise VideoUsageError("%video cancel needs one task id: %video cancel TASK_ID")
        try:
            print(run.cancel(args[0], self.settings()))
        except DashScopeError as exc:
            display(Failure("Cancel refused", exc))

    def _usage(self, args: list[str]) -> Any:
        from .display import usage_table

        return usage_table(Journal(self.settings().journal_path).billable_by_model(), self.max_billable_seconds)

    def _emulator(self, args: list[str]) -> None:
        from . import rehearsal

        if args and args[0] == "stop":
            print(rehearsal.stop(self))
        else:
            print(rehearsal.start(self))


_SUBCOMMANDS: dict[str, Callable[[VideoMagics, list[str]], Any]] = {
    "models": VideoMagics._models,
    "config": VideoMagics._config,
    "tasks": VideoMagics._tasks,
    "fetch": VideoMagics._fetch,
    "cancel": VideoMagics._cancel,
    "usage": VideoMagics._usage,
    "emulator": VideoMagics._emulator,
}


def _wants_help(line: str) -> bool:
    return line.strip() in ("--help", "-h", "help")


def _failure_title(exc: DashScopeError) -> str:
    names = {"TaskFailedError": "The task failed", "TaskCanceledError": "The task was cancelled",
             "TaskUnknownError": "The service does not know this task", "SubmissionUnclearError":
             "The submit's answer was lost: a task may exist", "PollTimeoutError": "Stopped waiting",
             "InterruptedTaskError": "Interrupted", "ResultExpiredError": "The video can no longer be downloaded"}
    return names.get(type(exc).__name__, "The service refused the request")


# Docstrings double as %%vidu? help.
for _magic in MAGICS:
    getattr(VideoMagics, _magic).__doc__ = usage_text(_magic)
VideoMagics.video.__doc__ = VIDEO_HELP
