"""``make demo``: run the quickstart notebook against the built-in emulator, keep what it made.

Executes ``notebooks/quickstart.ipynb`` with nbclient in a real kernel (cwd ``notebooks/``),
writes ``notebooks/out/quickstart.ipynb`` and ``notebooks/out/quickstart.html``, lists the
videos it saved, and exits non-zero when a cell failed unexpectedly. No API key is needed
and none is used: a ``DASHSCOPE_*`` setting in this shell never reaches the kernel, whose
first cell starts the emulator; the task journal is ``notebooks/out/journal.sqlite3``, so
the user's own journal is never touched.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter
from nbformat import NotebookNode

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE / "quickstart.ipynb"
OUT = HERE / "out"
JOURNAL = OUT / "journal.sqlite3"
KERNEL_LOG = OUT / "kernel.log"
CELL_TIMEOUT = 120
GENERATION_MAGICS = ("%%vidu", "%%kling", "%%wan")
SAMPLES = ("sample.png", "sample.wav")  # copied next to the notebook by its setup cell
# Never handed to the kernel: a real key, key file, endpoint, output folder or journal.
SCRUBBED = ("DASHSCOPE_API_KEY", "DASHSCOPE_API_KEY_FILE_PATH", "DASHSCOPE_HTTP_BASE_URL",
            "DASHSCOPE_BASE_URL", "OUTPUT_DIR", "ALIYUN_VIDEO_MAGICS_JOURNAL")


def shown(path: Path) -> str:
    """A path as printed: relative to the repository when inside it."""
    try:
        return str(path.relative_to(HERE.parent))
    except ValueError:
        return str(path)


def kernel_env() -> dict[str, str]:
    """This shell's environment minus any real service settings, with the demo journal."""
    env = {name: value for name, value in os.environ.items() if name not in SCRUBBED}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([venv_bin, *(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)])
    env["ALIYUN_VIDEO_MAGICS_JOURNAL"] = str(JOURNAL)
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    return env


def fresh_journal() -> None:
    """Each demo run starts with an empty journal, so its task list shows this run only."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(JOURNAL) + suffix).unlink(missing_ok=True)


def execute(nb: NotebookNode) -> CellExecutionError | None:
    """Run every cell in a fresh kernel; the first unexpected error, if any (the run stops there)."""
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(HERE)}})
    with KERNEL_LOG.open("wb") as log:
        try:
            client.execute(env=kernel_env(), cwd=str(HERE), stdout=log, stderr=log)
        except CellExecutionError as exc:
            return exc
    return None


def is_generation(cell: NotebookNode) -> bool:
    """A cell that should end with a video: a generation magic, not a dry run or an expected error."""
    lines = cell.source.strip().splitlines()
    tags = cell.get("metadata", {}).get("tags", [])
    return (cell.cell_type == "code" and bool(lines) and lines[0].startswith(GENERATION_MAGICS)
            and "--dry-run" not in lines[0] and "raises-exception" not in tags)


def problems(nb: NotebookNode) -> list[str]:
    """Cells that went wrong: an error not expected by its tags, or a generation with no video."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or cell.get("execution_count") is None:
            continue
        first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors and "raises-exception" not in cell.get("metadata", {}).get("tags", []):
            found.append(f"cell {index} ({first}): {errors[0].get('ename')}: {errors[0].get('evalue')}")
        elif is_generation(cell) and not any("<video" in o.get("data", {}).get("text/html", "")
                                             for o in cell.get("outputs", [])):
            found.append(f"cell {index} ({first}): no video in its output")
    return found


def videos_since(started: float) -> tuple[list[Path], int]:
    """The MP4s under notebooks/output/*/videos/ written by this run, and how many older ones there are."""
    everything = sorted((HERE / "output").glob("*/videos/*.mp4"))
    new = [p for p in everything if p.stat().st_mtime >= started - 1]
    return new, len(everything) - len(new)


def main() -> int:
    """Run the demo; 0 when every cell did what it should."""
    started = time.time()
    OUT.mkdir(parents=True, exist_ok=True)
    fresh_journal()
    nb = nbformat.read(NOTEBOOK, as_version=4)
    print(f"running {shown(NOTEBOOK)} against the built-in emulator (no key needed) ...",
          flush=True)
    try:
        error = execute(nb)
    finally:
        for name in SAMPLES:  # the notebook's last cell removes them; this covers a run that stopped early
            (HERE / name).unlink(missing_ok=True)
    ipynb, html = OUT / "quickstart.ipynb", OUT / "quickstart.html"
    nbformat.write(nb, ipynb)
    body, _ = HTMLExporter().from_notebook_node(nb)
    html.write_text(body, encoding="utf-8")
    print(f"executed notebook: {shown(ipynb)}")
    print(f"HTML copy:         {shown(html)}")
    print(f"kernel log:        {shown(KERNEL_LOG)}")
    videos, older = videos_since(started)
    print(f"videos ({len(videos)} from this run{f', {older} older ones beside them' if older else ''}):")
    for path in videos:
        print(f"  {shown(path)}  {path.stat().st_size / 1024:.1f} KB")
    found = problems(nb)
    if error is not None and not found:
        found.append(str(error).strip().splitlines()[-1])
    ran = sum(1 for c in nb.cells if c.cell_type == "code" and c.get("execution_count") is not None)
    code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
    expected = sum(1 for c in nb.cells if "raises-exception" in c.get("metadata", {}).get("tags", []))
    for line in found:
        print(f"UNEXPECTED: {line}", file=sys.stderr)
    verdict = "OK" if not found else f"FAILED ({len(found)} unexpected)"
    print(f"demo {verdict}: {ran}/{code_cells} code cells ran, {len(videos)} videos, {expected} expected "
          f"error cell, {time.time() - started:.1f} s")
    return 0 if not found else 1


if __name__ == "__main__":
    sys.exit(main())
