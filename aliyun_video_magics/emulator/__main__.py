"""Run the emulator from a shell, for rehearsing the magics without a key.

    python -m aliyun_video_magics.emulator [--port N] [--pending S] [--running S]
"""

from __future__ import annotations

import argparse
import threading

from aliyun_video_magics.emulator import EMULATOR_API_KEY, Emulator


def main(argv: list[str] | None = None) -> None:
    """Serve until Ctrl-C, after printing what to point the client at."""
    parser = argparse.ArgumentParser(prog="python -m aliyun_video_magics.emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0 picks a free one)")
    parser.add_argument("--pending", type=float, default=2.0, help="seconds each task stays PENDING")
    parser.add_argument("--running", type=float, default=6.0, help="seconds each task stays RUNNING")
    args = parser.parse_args(argv)
    emulator = Emulator(pending_seconds=args.pending, running_seconds=args.running, port=args.port)
    try:
        emulator.start()
    except OSError as error:
        parser.exit(1, f"cannot listen on 127.0.0.1:{args.port}: {error}\n")
    try:
        print(f"DashScope emulator running.\n  base URL: {emulator.base_url}\n  API key:  {EMULATOR_API_KEY}")
        print("Press Ctrl-C to stop.", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        print("Stopped.")
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
