#!/bin/sh
# Installs the Debian packages the test suite uses, when they are missing and this machine can:
#   chromium    the browser tests (tests/test_browser.py, skipped and saying why without it)
#   bubblewrap  the grading sandbox (mtml autograde; tests/homework/test_sandbox.py fails without it)
#   fonts-noto-cjk  a font with Hangul, so Chromium renders the Korean edition (tests/test_browser.py)
#   nodejs, npm the class hub's proxy (configurable-http-proxy from npm; tests/hub)
# Never fails itself: the tests say what is missing.
CHROMIUM="${MTML_CHROMIUM:-/usr/bin/chromium}"
missing=
[ -x "$CHROMIUM" ] || missing="$missing chromium"
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"
if ! { command -v fc-list >/dev/null 2>&1 && fc-list :lang=ko 2>/dev/null | grep -q .; }; then
    missing="$missing fonts-noto-cjk"
fi
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "no apt-get here to install$missing: the tests that need them say so" >&2
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    SUDO=
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "installing$missing needs root (sudo apt-get install$missing): the tests that need them say so" >&2
    exit 0
fi
echo "installing$missing with apt for the test suite"
if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null; }; then
    echo "apt-get install$missing failed: the tests that need them say so" >&2
fi
exit 0
