"""aliyun_video_magics: one notebook cell -> a finished video from Alibaba Cloud Model Studio.

``%load_ext aliyun_video_magics`` registers ``%%vidu``, ``%%kling``, ``%%wan`` and ``%video``.
The same pipeline is a plain Python API: ``generate("vidu", "A cat", duration=5)``.
"""

from __future__ import annotations

from typing import Any

from .errors import DashScopeError, VideoUsageError
from .result import VideoResult
from .run import Settings, fetch, generate

__all__ = ["DashScopeError", "Settings", "VideoResult", "VideoUsageError", "fetch", "generate",
           "load_ipython_extension", "unload_ipython_extension"]
__version__ = "0.1.0"


def load_ipython_extension(ipython: Any) -> None:
    from .magics import VideoMagics

    ipython.register_magics(VideoMagics)


def unload_ipython_extension(ipython: Any) -> None:
    from .magics import VideoMagics

    for kind in ("cell", "line"):
        table = ipython.magics_manager.magics[kind]
        for name in list(table):
            owner = getattr(table[name], "__self__", None)
            if isinstance(owner, VideoMagics):
                del table[name]
    ipython.magics_manager.registry.pop("VideoMagics", None)
