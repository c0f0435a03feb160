"""A local stand-in for chat-gpt.org, to run and test everything with no network.

``StubServer`` serves the ASGI app ``StubApp`` with uvicorn (the ``stub`` extra)
on a free loopback port. It echoes, checks cookies when told to, plays a script
of ``Fault`` values and records every request. In challenge mode
(``challenge=True``), a ``ChallengeGate`` stands in front of it, as Cloudflare's
interstitial does, for tests with a real browser. uvicorn is imported only when a
server starts.
"""

from aichat_adapters.stub._app import RecordedRequest, StubApp, create_app
from aichat_adapters.stub._challenge import ChallengeGate, Clearance
from aichat_adapters.stub._faults import Fault
from aichat_adapters.stub._server import StubServer

__all__ = [
    "ChallengeGate",
    "Clearance",
    "Fault",
    "RecordedRequest",
    "StubApp",
    "StubServer",
    "create_app",
]
