"""One headless Chromium driven through chromedriver: start, act, read, restart, and never leak a process.

Debian's `/usr/bin/chromium` and `/usr/bin/chromedriver` (`apt-get install -y chromium chromium-driver`; the paths
can be changed with $HIPER_CHROMIUM and $HIPER_CHROMEDRIVER). Selenium gets the driver path through `Service`, so
selenium-manager never tries to download one.

Containment (docs/design.md §5): the browser reaches 127.0.0.1 only. Every other host goes to a proxy on a loopback port
that we hold bound but never listen on (so the connection is refused and nobody else can take the port); Chromium
never proxies loopback, so our site server is reached directly. A host-resolver rule maps every name but localhost
to nothing, so no name is even looked up.

Processes: chromedriver starts in its own process group, which the browser and its helpers join; every process
started for this browser carries the browser's temporary directory in its command line (the crash handler too, as
$XDG_CONFIG_HOME points there). `close()` quits the driver, then kills the group and any process naming the
directory. A watchdog shell does the same if this Python process dies without closing (killed, or exiting).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any

from hiper_gym.web.actions import WebAction, option_index
from hiper_gym.web.dom import ID_ATTRIBUTE, SETTLE_JS, SNAPSHOT_JS, PageSnapshot, parse_snapshot

CHROMIUM = os.environ.get("HIPER_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("HIPER_CHROMEDRIVER", "/usr/bin/chromedriver")
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--mute-audio",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",  # WebRTC's UDP would not go through the proxy
)
RESOLVER_RULES = "MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1"
# Choose an option as a person's pick does (input and change events), in one round trip instead of Select's many.
SELECT_JS = """
const [el, index] = arguments;
el.focus();
if (el.selectedIndex !== index) {
  el.selectedIndex = index;
  el.dispatchEvent(new Event("input", {bubbles: true}));
  el.dispatchEvent(new Event("change", {bubbles: true}));
}
"""
NAVIGATION_WAIT = 5.0  # seconds an announced navigation may take to replace the page (then the old page stays)
INSTALL_HINT = "install them with `apt-get install -y chromium chromium-driver` (README, hiper/WebTask-v0)"
_WATCHDOG = """
# The parent is gone once this shell is reparented (a killed parent may stay a zombie, which kill -0 still finds).
while read -r _ _ _ ppid _ < /proc/$$/stat && [ "$ppid" = "$HIPER_PARENT" ]; do sleep 1; done
kill -9 -"$HIPER_PGID" 2>/dev/null
for f in /proc/[0-9]*/cmdline; do
  if grep -qsF "$HIPER_DIR" "$f"; then p=${f#/proc/}; kill -9 "${p%/cmdline}" 2>/dev/null; fi
done
rm -rf "$HIPER_DIR"
"""


class BrowserError(RuntimeError):
    """The browser or its driver died, hung past the timeout, or could not start."""


class ActionFailed(RuntimeError):
    """The page would not take the action (element gone, covered or not editable); the browser is fine."""


def _selenium() -> Any:
    try:
        import selenium.webdriver
    except ImportError as error:
        raise ImportError("hiper/WebTask-v0 drives Chromium with Selenium: pip install 'hiper[web]'") from error
    return selenium.webdriver


def processes_with(marker: str) -> list[int]:
    """Pids of live (not zombie) processes whose command line contains `marker`, this process excluded."""
    needle, found = marker.encode(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "cmdline").read_bytes():
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state not in ("Z", "X"):
                    found.append(int(entry.name))
        except (OSError, IndexError):
            continue
    return found


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    kids.append(int(entry.name))
    return kids


_LIVE: weakref.WeakSet[Browser] = weakref.WeakSet()


class Browser:
    """A headless Chromium with its chromedriver; `restart()` replaces both, `close()` stops both."""

    def __init__(self, window: tuple[int, int] = (1024, 768), timeout: float = 20.0, extra_args: tuple[str, ...] = ()):
        for path in (CHROMIUM, CHROMEDRIVER):
            if not os.access(path, os.X_OK):
                raise FileNotFoundError(
                    f"{path} not found: hiper/WebTask-v0 needs Chromium and chromedriver; {INSTALL_HINT}"
                )
        self.window, self.timeout, self.extra_args = window, timeout, tuple(extra_args)
        self.driver: Any = None
        self.workdir = ""
        self._service: Any = None
        self._proxy_socket: socket.socket | None = None
        self._watchdog: subprocess.Popen | None = None
        self._browser_pid: int | None = None
        self.healthy = False  # False once a driver call failed for another reason than the page
        self.start()
        _LIVE.add(self)

    # --- life cycle -----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start chromedriver and Chromium with a fresh profile."""
        webdriver = _selenium()
        from selenium.webdriver.chrome.service import Service

        self.workdir = tempfile.mkdtemp(prefix="hiper-chromium-")
        self._proxy_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._proxy_socket.bind(("127.0.0.1", 0))  # bound, never listening: connections to it are refused
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*HEADLESS_FLAGS, *self.extra_args):
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.workdir}/profile")
        options.add_argument(f"--window-size={self.window[0]},{self.window[1]}")
        options.add_argument(f"--proxy-server=http://127.0.0.1:{self._proxy_socket.getsockname()[1]}")
        options.add_argument(f"--host-resolver-rules={RESOLVER_RULES}")
        options.set_capability("unhandledPromptBehavior", "accept")
        env = {**os.environ, "HOME": self.workdir, "XDG_CONFIG_HOME": self.workdir, "XDG_CACHE_HOME": self.workdir}
        self._service = Service(
            executable_path=CHROMEDRIVER, env=env, log_output=subprocess.DEVNULL, popen_kw={"start_new_session": True}
        )
        try:
            self.driver = webdriver.Chrome(service=self._service, options=options)
        except Exception as error:
            self._kill_everything()
            raise BrowserError(f"Chromium did not start: {error}") from error
        self._start_watchdog()
        self.healthy = True
        config = getattr(self.driver.command_executor, "client_config", None)
        if config is not None:
            config.timeout = self.timeout  # a hung browser fails a command instead of blocking for 120 s
        # The viewport itself gets the window size (headless Chromium keeps ~140 px of it for window chrome).
        metrics = {"width": self.window[0], "height": self.window[1], "deviceScaleFactor": 1, "mobile": False}
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        self.driver.set_page_load_timeout(self.timeout)
        self.driver.set_script_timeout(self.timeout)

    def _start_watchdog(self) -> None:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HIPER_PARENT": str(os.getpid()),
            "HIPER_PGID": str(self.driver_pid),
            "HIPER_DIR": self.workdir,
        }
        self._watchdog = subprocess.Popen(
            ["sh", "-c", _WATCHDOG],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    @property
    def driver_pid(self) -> int | None:
        """The chromedriver process id."""
        process = getattr(self._service, "process", None)
        return None if process is None else process.pid

    @property
    def pid(self) -> int | None:
        """The browser's main process id (chromedriver's child)."""
        if self._browser_pid is None and self.driver_pid is not None:
            kids = _children(self.driver_pid)
            self._browser_pid = kids[0] if kids else None
        return self._browser_pid

    def restart(self) -> None:
        """Kill this browser and start a fresh one."""
        self.close()
        self.start()

    def close(self) -> None:
        """Quit the driver and make sure no process of this browser survives (idempotent)."""
        if self.driver is not None and self.healthy:  # a dead or hung one is killed: quit() would wait ~30 s
            config = getattr(self.driver.command_executor, "client_config", None)
            if config is not None:
                config.timeout = 5
            with contextlib.suppress(Exception):
                self.driver.quit()
        self._kill_everything()

    def _kill_everything(self) -> None:
        if self.driver_pid is not None:
            with contextlib.suppress(OSError):
                os.killpg(self.driver_pid, signal.SIGKILL)
        if self.workdir:
            for pid in processes_with(self.workdir):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        process = getattr(self._service, "process", None)
        if process is not None:
            with contextlib.suppress(Exception):
                process.wait(timeout=5)
        if self._watchdog is not None:
            with contextlib.suppress(OSError):
                self._watchdog.kill()
            self._watchdog.wait(timeout=5)
        if self._proxy_socket is not None:
            self._proxy_socket.close()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.driver, self._service, self._watchdog, self._proxy_socket = None, None, None, None
        self._browser_pid, self.workdir = None, ""

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    # --- acting and reading ------------------------------------------------------------------------------
    def _guard(self, call: Any, *args: Any) -> Any:
        """Run a driver call; element-level failures raise ActionFailed, anything else BrowserError."""
        from selenium.common import exceptions as E

        if self.driver is None:
            raise BrowserError("the browser is closed")
        try:
            return call(*args)
        except (
            E.StaleElementReferenceException,
            E.ElementNotInteractableException,
            E.ElementClickInterceptedException,
            E.NoSuchElementException,
            E.InvalidElementStateException,
            E.MoveTargetOutOfBoundsException,
        ) as error:
            raise ActionFailed(error.msg or type(error).__name__) from error
        except Exception as error:
            if "net::ERR_" not in str(error):  # a page that failed to load leaves the browser healthy
                self.healthy = False
            raise BrowserError(f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}") from error

    def open(self, url: str) -> str | None:
        """Load a URL; returns the network error name (e.g. 'ERR_PROXY_CONNECTION_FAILED') when it fails to load."""
        try:
            self._guard(self.driver.get, url)
        except BrowserError as error:
            if "net::ERR_" in str(error):
                return "ERR_" + str(error).split("net::ERR_", 1)[1].split()[0]
            raise
        return None

    def snapshot(self) -> PageSnapshot:
        """Read the current page (numbering its elements anew)."""
        raw = self._guard(self.driver.execute_script, SNAPSHOT_JS)
        page = parse_snapshot(raw)
        if page.url.startswith("chrome-error://"):  # a failed load: report the URL that was asked for
            page = PageSnapshot(self._guard(lambda: self.driver.current_url), page.title, page.lines, page.elements)
        return page

    def perform(self, action: WebAction, page: PageSnapshot) -> None:
        """Carry out a parsed, checked action on the page it was checked against."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        driver = self.driver
        if action.kind == "back":
            self._guard(driver.back)
        elif action.kind == "press":
            key = {"enter": Keys.ENTER, "tab": Keys.TAB, "escape": Keys.ESCAPE}[action.text]
            self._guard(lambda: driver.switch_to.active_element.send_keys(key))
        else:
            element = self._guard(driver.find_element, By.CSS_SELECTOR, f'[{ID_ATTRIBUTE}="{action.element}"]')
            if action.kind == "click":
                self._click(element)
            elif action.kind == "type":
                info = page.element(action.element or 0)
                if info is None or info.value:  # clearing an empty field is a round trip for nothing
                    self._guard(element.clear)
                self._guard(element.send_keys, action.text)
            else:
                info = page.element(action.element or 0)
                index = option_index(info.options or () if info else (), action.text)
                self._guard(self.driver.execute_script, SELECT_JS, element, index)
        self._settle(page.mark)

    def _click(self, element: Any) -> None:
        try:
            self._guard(element.click)
        except ActionFailed:  # covered by another element: a click event still reaches it
            self._guard(self.driver.execute_script, "arguments[0].click()", element)

    def _settle(self, mark: str) -> None:
        """Wait for the page the action led to: a navigation the page announced, then the new document's load."""
        deadline = time.monotonic() + self.timeout
        navigation_deadline = time.monotonic() + min(NAVIGATION_WAIT, self.timeout)
        while True:
            same, announced, ready = self._guard(self.driver.execute_script, SETTLE_JS, mark)
            if ready == "complete" and (not same or not announced or time.monotonic() > navigation_deadline):
                return  # a new page, no navigation, or one that never came (a 204 answer, a cancelled load)
            if time.monotonic() > deadline:
                self.healthy = False
                raise BrowserError(f"the page did not finish loading in {self.timeout} s")
            time.sleep(0.01)

    def screenshot_png(self, full_page: bool = False) -> bytes:
        """A PNG of the viewport, or of the whole page's height."""
        if not full_page:
            return self._guard(self.driver.get_screenshot_as_png)
        import base64

        metrics = self._guard(self.driver.execute_cdp_cmd, "Page.getLayoutMetrics", {})
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        clip = {"x": 0, "y": 0, "width": self.window[0], "height": max(size["height"], 1), "scale": 1}
        shot = self._guard(
            self.driver.execute_cdp_cmd,
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": clip},
        )
        return base64.b64decode(shot["data"])

    def history_index(self) -> int:
        """The position of the current entry in the tab's session history (back is possible above the start's)."""
        return int(self._guard(self.driver.execute_cdp_cmd, "Page.getNavigationHistory", {})["currentIndex"])

    def clear_cookies(self) -> None:
        """Forget every cookie (a new episode starts logged out)."""
        self._guard(self.driver.execute_cdp_cmd, "Network.clearBrowserCookies", {})


@atexit.register
def _close_all() -> None:
    for browser in list(_LIVE):
        browser.close()
