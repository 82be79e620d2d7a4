"""Debian's headless Chromium driven by selenium, for the web desk's browser tests.

The browser and its driver are the system's (``/usr/bin/chromium``, ``/usr/bin/chromedriver``:
the Debian packages ``chromium`` and ``chromium-driver``); selenium's own driver download is
never used (``Service`` is given the path), so nothing is fetched at test time. The flags turn
off everything Chromium would reach the network for on its own (component updates, sync,
background requests, QUIC): only the test's 127.0.0.1 server is ever asked for anything.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
    "--lang=en-US",
)


def missing() -> str | None:
    """Why the browser tests cannot run here, or ``None`` when they can."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.exists():
            return f"{path} not found (Debian package {package}; scripts/system_deps.sh)"
    return None


@contextmanager
def chromium() -> Iterator[WebDriver]:
    """A selenium ``webdriver.Chrome`` on the system Chromium, with a fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="marsad-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
