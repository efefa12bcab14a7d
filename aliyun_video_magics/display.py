"""What the user sees while a task runs and when it ends.

In a Jupyter kernel the progress is an ipywidgets box (status, elapsed, time left, model,
task id, a Cancel button) whose output bundle also carries HTML, so front ends without
widgets (nbclient, nbconvert, a notebook reopened later) show the same facts. When the
task ends the display is replaced in place by a static final state, so a saved notebook
never shows a frozen 0% bar. Outside a kernel, status changes are printed as lines.
"""

from __future__ import annotations

import html
import json
import shlex
import sys
import threading
import time
from typing import Any, Protocol

from .request import VideoRequest

STATUS_COLOURS = {"SUCCEEDED": "#2e7d32", "FAILED": "#c62828", "CANCELED": "#6d4c41",
                  "UNKNOWN": "#c62828", "INTERRUPTED": "#ef6c00", "TIMEOUT": "#ef6c00"}


class Reporter(Protocol):
    """How ``run`` tells the user what happens; the magics and the plain API pick one."""

    def submitted(self, task_id: str, model: str, estimate_seconds: float | None) -> None: ...
    def polled(self, status: str, elapsed: float) -> None: ...
    def note(self, text: str) -> None: ...
    def finished(self, status: str, text: str) -> None: ...
    def sleep(self, seconds: float) -> None: ...
    def cancel_requested(self) -> bool: ...
    def cancel_handled(self) -> None: ...


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class _State:
    """The facts every reporter shows, kept in one place."""

    def __init__(self) -> None:
        self.task_id = ""
        self.model = ""
        self.status = "SUBMITTING"
        self.started = time.monotonic()
        self.elapsed = 0.0
        self.estimate: float | None = None
        self.notes: list[str] = []

    def fraction(self) -> float | None:
        if not self.estimate:
            return None
        return min(0.95, self.elapsed / self.estimate)

    def summary(self) -> str:
        return " · ".join([self.status, *self.details()])

    def details(self) -> list[str]:
        """Elapsed, time left, model, task id: once there is a task to speak of."""
        if not self.task_id:
            return []
        parts = [f"elapsed {_clock(self.elapsed)}"]
        if self.estimate and self.status in ("PENDING", "RUNNING"):
            left = self.estimate - self.elapsed
            parts.append(f"about {_clock(left)} left (estimate)" if left > 0 else "taking longer than estimated")
        return parts + [self.model, f"task {self.task_id}"]

    def html(self, final_text: str = "") -> str:
        colour = STATUS_COLOURS.get(self.status, "#1565c0")
        if final_text:
            bar = ""
        elif self.fraction() is None:
            bar = "<progress style='width:16em'></progress> "
        else:
            bar = f"<progress style='width:16em' value='{self.fraction():.2f}' max='1'></progress> "
        notes = "".join(f"<div>{html.escape(n)}</div>" for n in self.notes)
        text = f"<div>{html.escape(final_text)}</div>" if final_text else ""
        return (f"<div class='aliyun-video-progress'>{bar}<b style='color:{colour}'>{html.escape(self.status)}</b> "
                f"{html.escape(' · '.join(self.details()))}{text}{notes}</div>")


class TextReporter:
    """Plain lines, one per status change: terminals, scripts, and the plain Python API."""

    def __init__(self, stream: Any = None) -> None:
        self.state = _State()
        self.stream = stream or sys.stdout

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def submitted(self, task_id: str, model: str, estimate_seconds: float | None) -> None:
        self.state.task_id, self.state.model, self.state.estimate = task_id, model, estimate_seconds
        self._print(f"task {task_id} submitted ({model})")

    def polled(self, status: str, elapsed: float) -> None:
        changed = status != self.state.status
        self.state.status, self.state.elapsed = status, elapsed
        if changed:
            self._print(self.state.summary())

    def note(self, text: str) -> None:
        self._print(text)

    def finished(self, status: str, text: str) -> None:
        self.state.status = status
        self._print(f"{status}: {text}" if text else status)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def cancel_requested(self) -> bool:
        return False

    def cancel_handled(self) -> None:
        """Nothing to reset: text has no Cancel button."""


class _ClickRoute:
    """Delivers the Cancel button's clicks while the cell blocks the kernel's main thread.

    ipykernel 7 can run kernel subshells, each on its own thread, and lets a comm say which
    subshell its front-end messages go to. The button's comm is pointed at one subshell
    created for this kernel, so its click handler runs there while the cell sleeps between
    polls. The cell itself never runs the event loop, so cells queued behind it are left
    alone. Where subshells are missing (older ipykernel), the button is hidden and Ctrl-C
    (the stop button) cancels instead.
    """

    subshell_id: str | None = None

    @classmethod
    def subshell(cls) -> str | None:
        if cls.subshell_id is None:
            try:
                from IPython import get_ipython

                kernel = get_ipython().kernel
                if not kernel._supports_kernel_subshells:
                    return None
                channel = kernel.shell_channel_thread
                created: dict[str, str] = {}
                ready = threading.Event()

                def create() -> None:  # must run on the shell channel thread
                    try:
                        created["id"] = channel.manager._create_subshell()
                    finally:
                        ready.set()

                channel.io_loop.add_callback(create)
                if ready.wait(5.0):
                    cls.subshell_id = created.get("id")
            except Exception:  # no kernel, or an ipykernel without subshells
                return None
        return cls.subshell_id

    @classmethod
    def attach(cls, widget: Any) -> bool:
        subshell = cls.subshell()
        comm = getattr(widget, "comm", None)
        if subshell is None or comm is None or not hasattr(comm, "_reply_subshell_for"):
            return False
        comm._reply_subshell_for = lambda _data, _default: subshell
        return True


class WidgetReporter:
    """The live progress box in a Jupyter kernel, replaced by a static final state."""

    REFRESH_SECONDS = 10.0  # how often the HTML fallback is re-sent while nothing changes

    def __init__(self) -> None:
        import ipywidgets as widgets
        from IPython.display import display

        self.state = _State()
        self._cancel = False
        self._last_refresh = 0.0
        self.status = widgets.HTML()
        self.bar = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, bar_style="info",
                                         layout=widgets.Layout(width="16em"))
        self.info = widgets.HTML()
        self.button = widgets.Button(description="Cancel", tooltip="Cancel while the task is PENDING",
                                     icon="stop", layout=widgets.Layout(width="8em"))
        self.button.on_click(lambda _button: self._request_cancel())
        children = [self.status, self.bar, self.button, self.info]
        if not _ClickRoute.attach(self.button):
            children.remove(self.button)
            self.state.notes.append("To cancel while PENDING, interrupt the kernel (stop button).")
        self.box = _ProgressBox(self, children)
        self._display = display
        self.handle: Any = None  # shown on first news, so a refused request leaves no empty bar

    def _show(self) -> None:
        if self.handle is None:
            self._render()
            self.handle = self._display(self.box, display_id=True)

    def _request_cancel(self) -> None:
        self._cancel = True
        self.button.disabled = True
        self.button.description = "Cancelling"

    def _render(self) -> None:
        state = self.state
        colour = STATUS_COLOURS.get(state.status, "#1565c0")
        self.status.value = f"<b style='color:{colour}'>{html.escape(state.status)}</b>"
        fraction = state.fraction()
        if fraction is None:
            self.bar.value, self.bar.bar_style = 1.0, "info"  # indeterminate: a full, pale bar
        else:
            self.bar.value, self.bar.bar_style = fraction, ""
        self.info.value = html.escape(" · ".join(state.details())) + "".join(
            f"<br>{html.escape(n)}" for n in state.notes)

    def _refresh(self, force: bool = False) -> None:
        self._show()
        self._render()
        now = time.monotonic()
        if force or now - self._last_refresh >= self.REFRESH_SECONDS:
            self._last_refresh = now
            self.handle.update(self.box)

    def submitted(self, task_id: str, model: str, estimate_seconds: float | None) -> None:
        self.state.task_id, self.state.model, self.state.estimate = task_id, model, estimate_seconds
        self.state.status = "PENDING"
        self._refresh(force=True)

    def polled(self, status: str, elapsed: float) -> None:
        changed = status != self.state.status
        self.state.status, self.state.elapsed = status, elapsed
        if status != "PENDING" and not self._cancel:
            self.button.disabled = True
            self.button.tooltip = "The task is running; it can no longer be cancelled"
        self._refresh(force=changed)

    def note(self, text: str) -> None:
        self.state.notes.append(text)
        self._refresh(force=True)

    def finished(self, status: str, text: str) -> None:
        from IPython.display import HTML

        self._show()
        self.state.status = status
        self.state.elapsed = max(self.state.elapsed, time.monotonic() - self.state.started)
        self.box.close()
        self.handle.update(HTML(self.state.html(final_text=text)))

    def sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._cancel:
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(0.25, left))

    def cancel_requested(self) -> bool:
        return self._cancel

    def cancel_handled(self) -> None:
        self._cancel = False
        self.button.description = "Cancel"


def _progress_box_class() -> type:
    import ipywidgets as widgets

    class ProgressBox(widgets.HBox):  # type: ignore[misc]
        """An HBox whose output bundle also carries HTML and text for front ends without widgets."""

        def __init__(self, reporter: WidgetReporter, children: list[Any]) -> None:
            super().__init__(children=children, layout=widgets.Layout(align_items="center", flex_flow="row wrap"))
            self._reporter = reporter

        def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
            bundle = dict(super()._repr_mimebundle_(**kwargs) or {})
            bundle["text/html"] = self._reporter.state.html()
            bundle["text/plain"] = self._reporter.state.summary()
            return bundle

    return ProgressBox


def _ProgressBox(reporter: WidgetReporter, children: list[Any]) -> Any:
    return _progress_box_class()(reporter, children)


def reporter_for_environment() -> Reporter:
    """Widgets inside a Jupyter kernel, printed lines anywhere else."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None and getattr(shell, "kernel", None) is not None:
            return WidgetReporter()
    except ImportError:
        pass
    return TextReporter()


# ---------------------------------------------------------------------------------------
# Dry run and failures


class DryRun:
    """What ``--dry-run`` shows and returns: the request that would be sent, and nothing sent."""

    def __init__(self, request: VideoRequest, base_url: str) -> None:
        self.request = request
        self.url = base_url.rstrip("/") + request.endpoint_path
        self.headers = {"Authorization": "Bearer ***", "Content-Type": "application/json",
                        "X-DashScope-Async": "enable"}
        if request.local_files or _has_oss(request.payload):
            self.headers["X-DashScope-OssResourceResolve"] = "enable"
        self.body = request.payload_with({p: f"oss://<upload of {p}>" for p in request.local_files})

    def curl(self) -> str:
        body = json.dumps(self.body, ensure_ascii=False, indent=2)
        lines = [f"curl -X POST {shlex.quote(self.url)}"]
        for name, value in self.headers.items():
            if name == "Authorization":  # the variable, so the copied command works and shows no key
                lines.append('  -H "Authorization: Bearer $DASHSCOPE_API_KEY"')
            else:
                lines.append(f"  -H {shlex.quote(f'{name}: {value}')}")
        lines.append(f"  -d {shlex.quote(body)}")
        return " \\\n".join(lines)

    def text(self) -> str:
        notes = "".join(f"\nnote: {n}" for n in self.request.notes)
        uploads = "".join(f"\nupload first: {p} (temporary OSS, tied to {self.request.model.name})"
                          for p in self.request.local_files)
        headers = "\n".join(f"  {k}: {v}" for k, v in self.headers.items())
        return (f"DRY RUN - nothing sent\nmodel: {self.request.model.name}\nPOST {self.url}\n{headers}"
                f"{uploads}{notes}\n\n{json.dumps(self.body, ensure_ascii=False, indent=2)}\n\n{self.curl()}")

    def _repr_html_(self) -> str:
        return (f"<div class='aliyun-video-dry-run'><b>Dry run: nothing sent.</b> "
                f"Model <code>{html.escape(self.request.model.name)}</code>"
                f"<pre>{html.escape(self.text())}</pre></div>")

    def __repr__(self) -> str:
        return self.text()


def _has_oss(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_oss(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_oss(v) for v in value)
    return isinstance(value, str) and value.startswith("oss://")


class Failure:
    """A failed, cancelled or interrupted task: one short block with every id needed."""

    def __init__(self, title: str, error: Any) -> None:
        self.title = title
        self.fields = [(name, getattr(error, attr, None)) for name, attr in (
            ("code", "code"), ("message", "message"), ("task id", "task_id"),
            ("request id", "request_id"), ("HTTP status", "status"))]
        self.fields = [(k, str(v)) for k, v in self.fields if v not in (None, "")]
        if not any(k == "message" for k, _ in self.fields):
            self.fields.insert(0, ("message", str(error)))

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th>"
                       f"<td style='text-align:left;white-space:pre-wrap'>{html.escape(v)}</td></tr>"
                       for k, v in self.fields)
        return (f"<div class='aliyun-video-failure' style='border-left:4px solid #c62828;padding-left:.5em'>"
                f"<b>{html.escape(self.title)}</b><table>{rows}</table></div>")

    def __repr__(self) -> str:
        return self.title + "".join(f"\n  {k}: {v}" for k, v in self.fields)


# ---------------------------------------------------------------------------------------
# Tables for %video models / tasks / usage


class Table:
    """A small table with HTML and plain-text forms, so it reads well in every front end."""

    def __init__(self, title: str, header: list[str], rows: list[list[str]]) -> None:
        self.title, self.header, self.rows = title, header, rows

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{html.escape(c)}</td>" for c in row) + "</tr>"
                       for row in self.rows)
        return f"<div><b>{html.escape(self.title)}</b><table><tr>{head}</tr>{body}</table></div>"

    def __repr__(self) -> str:
        widths = [max(len(str(c)) for c in column) for column in zip(self.header, *self.rows)]
        lines = [self.title] + ["  ".join(str(c).ljust(w) for c, w in zip(row, widths))
                                for row in [self.header, *self.rows]]
        return "\n".join(lines)


def catalog_table(models: list[Any]) -> Table:
    rows = []
    for m in models:
        lo, hi = m.durations
        media = "; ".join(rule.label for rule in m.media) or "-"
        rows.append([m.name, m.short or "", m.mode, f"{lo}-{hi} s" if lo != hi else f"{lo} s",
                     ", ".join(m.resolutions), media, m.audio, ", ".join(m.regions),
                     m.uncertain and "uncertain: " + m.uncertain])
    return Table(f"{len(rows)} models", ["model", "short", "mode", "duration", "resolutions", "media",
                                         "audio", "regions", "notes"], rows)


def journal_table(entries: list[Any]) -> Table:
    rows = [[time.strftime("%Y-%m-%d %H:%M", time.localtime(e.created_at)), e.task_id or "-", e.status,
             e.model, (e.prompt[:40] + "...") if len(e.prompt) > 40 else e.prompt,
             f"{e.billable_seconds:g}" if e.billable_seconds is not None else "", e.video_path or ""]
            for e in entries]
    return Table(f"{len(rows)} tasks, newest first", ["created", "task id", "status", "model", "prompt",
                                                       "billable s", "file"], rows)


def usage_table(per_model: list[tuple[str, float, float]], limit: float) -> Table:
    rows = [[model, f"{session:g}", f"{total:g}"] for model, session, total in per_model]
    rows.append(["total", f"{sum(r[1] for r in per_model):g}", f"{sum(r[2] for r in per_model):g}"])
    guard = f"limit {limit:g} s this session" if limit else "no limit set (VideoMagics.max_billable_seconds)"
    return Table(f"Billable seconds ({guard})", ["model", "this session", "all time"], rows)
