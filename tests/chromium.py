"""Headless Chromium driven through the DevTools protocol over a pipe (--remote-debugging-pipe): the
browser Debian packages, no websocket library, no driver, nothing downloaded. For the report tests."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """The first Chromium on PATH, or None."""
    return next((found for name in NAMES if (found := shutil.which(name))), None)


class Chromium:
    """One headless browser with one page; send() waits for the reply and keeps the events meanwhile."""

    def __init__(self, binary: str, profile: Path, timeout: float = 60):
        self.timeout, self.events, self.next_id, self.buffer = timeout, [], 0, b""
        to_browser, self.to_browser = os.pipe()
        self.from_browser, from_browser = os.pipe()

        def on_fds_3_and_4() -> None:  # Chromium reads commands from fd 3, writes replies to fd 4
            read = fcntl.fcntl(to_browser, fcntl.F_DUPFD, 10)  # above 4, so neither is overwritten
            write = fcntl.fcntl(from_browser, fcntl.F_DUPFD, 10)
            os.dup2(read, 3)
            os.dup2(write, 4)

        flags = ["--headless=new", "--remote-debugging-pipe", f"--user-data-dir={profile}", "--no-first-run",
                 "--no-default-browser-check", "--disable-gpu", "--disable-extensions", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update", "--hide-scrollbars",
                 "--mute-audio", *(["--no-sandbox"] if os.geteuid() == 0 else [])]  # root: no sandbox
        self.process = subprocess.Popen(  # preexec_fn: no thread runs while the browser starts
            [binary, *flags, "about:blank"], preexec_fn=on_fds_3_and_4, close_fds=False,  # noqa: PLW1509
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser)
        os.close(from_browser)
        self.session: str | None = None

    def send(self, method: str, params: dict[str, Any] | None = None,
             browser: bool = False) -> dict[str, Any]:
        """Call a DevTools method (on the page, unless browser) and return its result."""
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session and not browser:
            message["sessionId"] = self.session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self.receive()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, event: str) -> dict[str, Any]:
        """The first event of that name, received before or now."""
        while True:
            for e in self.events:
                if e.get("method") == event:
                    return e
            self.events.append(self.receive())

    def receive(self) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self.buffer:
            if not select.select([self.from_browser], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise TimeoutError(f"Chromium sent nothing for {self.timeout} s")
            chunk = os.read(self.from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError(f"Chromium exited (code {self.process.poll()})")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def open_page(self, width: int = 1200, height: int = 900) -> None:
        """A new page, attached, its events on (page, console, log, network)."""
        target = self.send("Target.createTarget", {"url": "about:blank"}, browser=True)["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                 browser=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                         "deviceScaleFactor": 1, "mobile": False})

    def load(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, dark: bool = False, height: int | None = None) -> None:
        """The whole page (or its top height pixels) as a PNG, in the light or the dark colour scheme."""
        self.send("Emulation.setEmulatedMedia", {"features": [
            {"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})
        clip = {"clip": {"x": 0, "y": 0, "width": self.evaluate("document.documentElement.scrollWidth"),
                         "height": height, "scale": 1}} if height else {}
        shot = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, **clip})
        path.write_bytes(base64.b64decode(shot["data"]))

    def pdf(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.send("Page.printToPDF", {"printBackground": False})["data"]))

    def close(self) -> None:
        try:
            self.send("Browser.close", browser=True)
        except (OSError, RuntimeError, TimeoutError):
            pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self.to_browser)
        os.close(self.from_browser)
