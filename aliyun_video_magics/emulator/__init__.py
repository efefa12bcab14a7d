"""A built-in DashScope emulator: a real local HTTP server with the service's wire format.

Used by the integration tests, the demo notebook, and anyone rehearsing without a key::

    with Emulator() as emu:
        client_base_url, api_key = emu.base_url, EMULATOR_API_KEY
"""

from aliyun_video_magics.emulator.faults import Fault
from aliyun_video_magics.emulator.media import CLIPS_DIR
from aliyun_video_magics.emulator.server import EMULATOR_API_KEY, Emulator, RecordedRequest

__all__ = ["CLIPS_DIR", "EMULATOR_API_KEY", "Emulator", "Fault", "RecordedRequest"]
