"""What the tests share, one module per concept; import the names from ``tests.support``.

- ``clients``: the test cookies, a fast retry policy, options for a stub, and
  one call through each client kind (sync, asyncio, trio);
- ``waits``: waits recorded instead of slept (a client's ``sleep``, injected);
- ``leaks``: open file descriptors and the stub's load, settled;
- ``files``: a folder nobody can write to, root included;
- ``failures``: a server (or none) for each way a request gets no answer;
- ``tls``: the stub app over HTTPS with a counting relay; self-signed certificates;
- ``socks5``: a SOCKS5 proxy on loopback;
- ``cli``: the ``aichat`` command in a subprocess, and at a pseudo-terminal;
- ``serve``: ``aichat serve``'s app in a thread, or the command as a process;
- ``challenge``: the stub's challenge page, solved in Python;
- ``prompts``: g4f's ``format_prompt``, the oracle for the prompt on the wire;
- ``clearance``: browser processes and profiles left behind, and one call with a bundle;
- ``flaresolverr``: a fake FlareSolverr service.

The fixtures built on these (the one stub server of the session, the client
kinds, the proxy, Chromium...) are in ``tests/conftest.py``.
"""

from __future__ import annotations

from .challenge import BODY, BROWSER, HEADLESS, solve
from .clearance import leftover_profiles, processes_naming
from .cli import (
    AICHAT,
    WAIT,
    at_a_terminal,
    clean_env,
    drain,
    no_cookies_env,
    run,
    started,
    stdout_line,
    visible,
)
from .clients import COOKIES, FAST, KINDS, Complete, call, options_for
from .failures import FAILURES, UNRESOLVABLE, Failure, Targets, free_port
from .files import read_only
from .flaresolverr import FakeFlareSolverr
from .leaks import SETTLE, client_fd_count, fd_count, open_fds, settle, wait_for
from .prompts import g4f_format_prompt
from .serve import KEY, LiveServer, Process, client_for, live, process, serve_env
from .socks5 import Socks5Server
from .tls import HttpsStub, self_signed
from .waits import Waits

__all__ = [
    "AICHAT",
    "BODY",
    "BROWSER",
    "COOKIES",
    "Complete",
    "FAILURES",
    "FAST",
    "Failure",
    "FakeFlareSolverr",
    "HEADLESS",
    "HttpsStub",
    "KEY",
    "KINDS",
    "LiveServer",
    "Process",
    "SETTLE",
    "Socks5Server",
    "Targets",
    "UNRESOLVABLE",
    "WAIT",
    "Waits",
    "at_a_terminal",
    "call",
    "clean_env",
    "client_fd_count",
    "client_for",
    "drain",
    "fd_count",
    "free_port",
    "g4f_format_prompt",
    "leftover_profiles",
    "live",
    "no_cookies_env",
    "open_fds",
    "options_for",
    "process",
    "processes_naming",
    "read_only",
    "run",
    "self_signed",
    "serve_env",
    "settle",
    "solve",
    "started",
    "stdout_line",
    "visible",
    "wait_for",
]
