"""The browser wrapper: contained to loopback, restartable, and no process outlives it.

Containment is shown with host names only (example.com, example.invalid): these machines may not send traffic to
any address outside 127.0.0.0/8, and with the dead loopback proxy the browser never tries to.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hiper_gym.web.browser import Browser, BrowserError, processes_with
from hiper_gym.web.server import SiteServer
from hiper_gym.web.site import StaticSite

pytestmark = pytest.mark.browser


def alive(pid: int | None) -> bool:
    """Whether a process exists and is not a zombie."""
    if pid is None:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_until(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.fixture
def served():
    server = SiteServer()
    server.serve(StaticSite({"/": "<h1>Local page</h1>"}))
    yield server
    server.close()


def test_external_host_names_are_refused_and_loopback_loads(served):
    browser = Browser()
    try:
        for url in ("http://example.com/", "https://example.com/", "http://example.invalid/"):
            assert browser.open(url) is not None, url
        assert browser.open(served.url("/")) is None
        assert browser.snapshot().lines == ("Local page",)
        assert browser.open(f"http://localhost:{served.port}/") is None
        assert all("example" not in host for _, host, _ in served.requests)
    finally:
        browser.close()


def _remote_addresses(pids: list[int]) -> set[str]:
    """Remote IPv4/IPv6 addresses (hex, as /proc/net shows them) of the sockets these processes hold."""
    inodes = set()
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        for fd in fd_dir.iterdir() if fd_dir.exists() else []:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    remotes = set()
    for table in ("tcp", "tcp6", "udp", "udp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                remotes.add(fields[2].split(":")[0])
    return remotes


def test_the_browser_holds_no_socket_to_any_address_outside_loopback(served):
    browser = Browser()
    try:
        browser.open(served.url("/"))
        browser.open("http://example.com/")
        remotes = _remote_addresses(processes_with(browser.workdir))
    finally:
        browser.close()
    assert "0100007F" in remotes  # 127.0.0.1: the driver's and the site's connections are seen
    unset = {"00000000", "0" * 32}  # 0.0.0.0 and :: (listening or unconnected sockets)
    loopback = {a for a in remotes if len(a) == 8 and a.endswith("7F")} | {"0" * 24 + "01000000"}  # 127/8, ::1
    assert remotes <= unset | loopback, remotes


def test_close_stops_driver_browser_and_helpers():
    browser = Browser()
    driver_pid, browser_pid, workdir = browser.driver_pid, browser.pid, browser.workdir
    assert alive(driver_pid) and alive(browser_pid) and len(processes_with(workdir)) >= 3
    browser.close()
    browser.close()  # idempotent
    assert not alive(driver_pid) and not alive(browser_pid)
    assert processes_with(workdir) == [] and not os.path.exists(workdir)


def test_a_killed_browser_raises_browser_error_and_restarts(served):
    browser = Browser()
    try:
        old_workdir = browser.workdir
        os.kill(browser.pid, signal.SIGKILL)
        with pytest.raises(BrowserError):
            browser.open(served.url("/"))
            browser.snapshot()
        browser.restart()
        assert processes_with(old_workdir) == []
        assert browser.open(served.url("/")) is None and browser.snapshot().lines == ("Local page",)
    finally:
        browser.close()


def test_a_hung_browser_fails_within_the_timeout(served):
    browser = Browser(timeout=3.0)
    workdir = browser.workdir
    try:
        browser.open(served.url("/"))
        os.kill(browser.pid, signal.SIGSTOP)
        start = time.monotonic()
        with pytest.raises(BrowserError):
            browser.snapshot()
        assert time.monotonic() - start < 15
    finally:
        browser.close()  # kills the stopped processes too
    assert processes_with(workdir) == []


def test_the_watchdog_stops_everything_when_python_is_killed():
    script = (
        "import os, signal, sys\n"
        "from hiper_gym.web.browser import Browser\n"
        "b = Browser()\n"
        "print(b.workdir, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=root, env={**os.environ}
    )
    workdir = result.stdout.strip()
    assert result.returncode == -signal.SIGKILL and workdir.startswith("/"), result.stderr[-2000:]
    assert wait_until(lambda: processes_with(workdir) == [], 15), processes_with(workdir)
    assert wait_until(lambda: not os.path.exists(workdir), 5)
