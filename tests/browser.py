"""Headless Chromium for the web page's tests, driven over ``--remote-debugging-pipe`` (standard library only).

Chromium reads Chrome DevTools Protocol commands on fd 3 and writes replies and events on fd 4; every
message is one JSON object ended by a NUL byte. This opens pages, evaluates JavaScript in them, polls
the DOM, collects console messages and takes screenshots::

    with Browser(extra_flags=camera_flags("clip.y4m")) as browser:
        page = browser.open("http://127.0.0.1:8000/index.html?camera=1")
        text = page.wait_for(RESULT_JS, timeout=60)
        page.screenshot("shot.png")

(A plain ``--virtual-time-budget`` with ``--dump-dom`` works too, for photos and the camera, but gives
only the last result; this driver watches the page in real time.)
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time

CHROMIUM = shutil.which("chromium")
BASE_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
]


def camera_flags(y4m: str) -> list[str]:
    """Flags that give the page a fake camera playing ``y4m`` (looped) and grant the permission."""
    return ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={y4m}"]


class Page:
    def __init__(self, browser: Browser, session: str, target: str) -> None:
        self.browser, self.session, self.target = browser, session, target

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})

    def send(self, method: str, params: dict | None = None) -> dict:
        return self.browser.send(method, params, self.session)

    def evaluate(self, expression: str, await_promise: bool = False):
        reply = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                               "awaitPromise": await_promise})
        if "exceptionDetails" in reply:
            raise RuntimeError(f"page exception: {json.dumps(reply['exceptionDetails'])[:500]}")
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60.0, interval: float = 0.2):
        """Poll ``expression`` until it is truthy; its value (TimeoutError after ``timeout`` s)."""
        end = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > end:
                raise TimeoutError(f"{expression!r} still falsy after {timeout} s")
            self.browser.pump(interval)

    def screenshot(self, path: str) -> None:
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as out:
            out.write(base64.b64decode(data))


class Browser:
    def __init__(self, extra_flags: list[str] | None = None, width: int = 1000, height: int = 800) -> None:
        self.profile = tempfile.mkdtemp(prefix="cdp-profile-")
        # fds 3 (we write, Chromium reads) and 4 (Chromium writes, we read) in the child
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        # In the child, put its ends on fds 3 and 4 (via copies at >= 10, so neither clobbers the other).
        # close_fds=False: every other fd Python opened is close-on-exec anyway; dup2 makes 3 and 4 inheritable.
        def setup() -> None:
            import fcntl
            read_end = fcntl.fcntl(to_child_r, fcntl.F_DUPFD_CLOEXEC, 10)
            write_end = fcntl.fcntl(from_child_w, fcntl.F_DUPFD_CLOEXEC, 10)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)
        if CHROMIUM is None:
            raise RuntimeError("chromium is not installed (scripts/setup.sh installs it)")
        args = [CHROMIUM, *BASE_FLAGS, f"--user-data-dir={self.profile}", f"--window-size={width},{height}",
                "--remote-debugging-pipe", *(extra_flags or []), "about:blank"]
        self.log = open(os.path.join(self.profile, "chromium.log"), "wb")
        self.process = subprocess.Popen(args, close_fds=False, preexec_fn=setup,
                                        stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []
        self.console: list[str] = []
        self.requests: list[str] = []  # every URL the page asked for (Network.requestWillBeSent)

    # --- transport ---
    def _write(self, message: dict) -> None:
        os.write(self._to_child, json.dumps(message).encode() + b"\0")

    def _read_one(self, timeout: float) -> dict | None:
        import select
        end = time.monotonic() + timeout
        while b"\0" not in self._buffer:
            left = end - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self._from_child], [], [], left)
            if not ready:
                return None
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe (crashed?); see " + self.log.name)
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _handle_event(self, message: dict) -> None:
        self.events.append(message)
        if message.get("method") == "Runtime.consoleAPICalled":
            params = message["params"]
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            self.console.append(f"console.{params.get('type')}: {text}")
        elif message.get("method") == "Runtime.exceptionThrown":
            details = message["params"]["exceptionDetails"]
            text = details.get("exception", {}).get("description", details.get("text"))
            self.console.append(f"exception: {text}")
        elif message.get("method") == "Network.requestWillBeSent":
            self.requests.append(message["params"]["request"]["url"])
        elif message.get("method") == "Log.entryAdded":
            entry = message["params"]["entry"]
            self.console.append(f"log.{entry.get('level')}: {entry.get('text')} {entry.get('url', '')}")

    def pump(self, seconds: float) -> None:
        """Read events for ``seconds``."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            message = self._read_one(left)
            if message is not None and "id" not in message:
                self._handle_event(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 120) -> dict:
        self._next_id += 1
        ident = self._next_id
        message = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self._write(message)
        end = time.monotonic() + timeout
        while True:
            reply = self._read_one(max(0.0, end - time.monotonic()))
            if reply is None:
                raise TimeoutError(f"no reply to {method} in {timeout} s")
            if reply.get("id") == ident:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "id" not in reply:
                self._handle_event(reply)

    # --- pages ---
    def open(self, url: str) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session, target)
        for domain in ("Runtime.enable", "Log.enable", "Page.enable", "Network.enable"):
            page.send(domain)
        page.send("Page.navigate", {"url": url})
        return page

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except Exception:  # noqa: BLE001 - it may already be gone
            pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


RESULT_JS = "document.getElementById('result')?.textContent"
