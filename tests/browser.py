"""Headless Chromium driven over the DevTools protocol, for the tests of viewer.html.

Needs Debian's Chromium (/usr/bin/chromium; HUMANVID_CHROMIUM names another binary). The browser is driven
over a pipe (--remote-debugging-pipe), so a test waits for the page's own "ready" signal instead of guessing
a time budget.
"""

from __future__ import annotations

import base64
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

WIDTH, HEIGHT = 320, 240  # the window's size; each page sets its own viewport


def chromium_binary() -> str:
    import shutil

    return os.environ.get("HUMANVID_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


class Browser:
    """Headless Chromium driven over the DevTools protocol on fds 3 and 4 (JSON messages ended by NUL)."""

    def __init__(self, binary: str, profile: Path):
        child_in, self.to_browser = os.pipe()
        self.from_browser, child_out = os.pipe()
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-extensions", f"--user-data-dir={profile}",
                 f"--window-size={WIDTH},{HEIGHT}", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                 "--force-device-scale-factor=1", "--hide-scrollbars", "--remote-debugging-pipe", "about:blank"]
        # The protocol's pipe must be the browser's fds 3 and 4: a tiny Python trampoline puts it there.
        trampoline = ("import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
                      "os.execv(sys.argv[3], sys.argv[3:])")
        self.log = profile / "chromium.log"  # a file, not a pipe nobody reads, which could fill and stall it
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([sys.executable, "-c", trampoline, str(child_in), str(child_out), binary,
                                             *flags], pass_fds=(child_in, child_out), stdout=log, stderr=log)
        os.close(child_in)
        os.close(child_out)
        self.pending, self.last_id = b"", 0

    def send(self, method: str, session: str | None = None, timeout: float = 60, **params):
        self.last_id += 1
        message = {"id": self.last_id, "method": method, "params": params, **({"sessionId": session} if session else {})}
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self.pending:
                raw, self.pending = self.pending.split(b"\0", 1)
                reply = json.loads(raw)
                if reply.get("id") == self.last_id:
                    assert "error" not in reply, f"{method}: {reply['error']}"
                    return reply["result"]
            left = deadline - time.monotonic()
            assert left > 0 and select.select([self.from_browser], [], [], left)[0], f"Chromium did not answer {method}"
            chunk = os.read(self.from_browser, 1 << 20)
            assert chunk, f"Chromium exited: {self.log.read_text(errors='replace')[-2000:]}"
            self.pending += chunk

    def open(self, url: str, width: int, height: int, then: str = "null", timeout: float = 60) -> tuple[str, bytes, object]:
        """Load `url` in a fresh tab of width × height CSS pixels and wait for <body data-ready>: its value, a PNG
        screenshot, and the value of the expression `then` evaluated afterwards."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        try:
            self.send("Emulation.setDeviceMetricsOverride", session, width=width, height=height, deviceScaleFactor=1,
                      mobile=False)
            self.send("Page.navigate", session, url=url)
            deadline = time.monotonic() + timeout
            while (ready := self.evaluate(session, "document.body && document.body.dataset.ready")) is None:
                assert time.monotonic() < deadline, f"{url} never became ready"
                time.sleep(0.05)
            if ready == "error":
                return "error: " + str(self.evaluate(session, "document.getElementById('message').textContent")), b"", None
            png = base64.b64decode(self.send("Page.captureScreenshot", session, format="png")["data"])
            return ready, png, self.evaluate(session, then)
        finally:
            self.send("Target.closeTarget", targetId=target)

    def evaluate(self, session: str, expression: str):
        return self.send("Runtime.evaluate", session, expression=expression, returnByValue=True)["result"].get("value")

    def close(self) -> None:
        try:
            os.write(self.to_browser, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self.process.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        os.close(self.to_browser)
        os.close(self.from_browser)
