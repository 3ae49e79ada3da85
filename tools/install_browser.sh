#!/bin/sh
# Installs Debian's Chromium for the browser tests when it is missing and this machine can.
# Never fails: without a browser, tests/test_browser.py is skipped and says why.
CHROMIUM="${MTML_CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "browser tests: no $CHROMIUM and no apt-get here; they will be skipped" >&2
    exit 0
fi
if [ "$(id -u)" = 0 ]; then
    SUDO=
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "browser tests: no $CHROMIUM, and installing it needs root (sudo apt-get install chromium); they will be skipped" >&2
    exit 0
fi
echo "installing chromium with apt for the browser tests"
if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null; }; then
    echo "browser tests: apt-get install chromium failed; they will be skipped" >&2
fi
exit 0
