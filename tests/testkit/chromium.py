"""Headless Chromium for the browser tests (Playwright driving Debian's Chromium at
``/usr/bin/chromium``; ``MTML_CHROMIUM`` overrides; no browser is ever downloaded), and what a
test asks JupyterLab's page through ``window.jupyterapp``."""

from __future__ import annotations

import contextlib
import os

import pytest

CHROMIUM = os.environ.get("MTML_CHROMIUM", "/usr/bin/chromium")

# The open notebook is loaded and its kernel connected and idle.
NOTEBOOK_READY = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session &&
    panel.sessionContext.session.kernel;
  return !!(panel && panel.context && panel.context.isReady && kernel
            && kernel.connectionStatus === 'connected' && kernel.status === 'idle');
}"""


@contextlib.contextmanager
def headless_chromium():
    """A launched headless Chromium; the test is skipped, with the reason, where Chromium or
    Playwright is missing (``make test`` installs Chromium with apt when it can)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install Debian's chromium (apt-get install chromium) "
            f"or point MTML_CHROMIUM at a Chromium binary"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as error:
        pytest.skip(f"Playwright for Python is not installed ({error}); pip install -e '.[test]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()
