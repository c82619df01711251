#!/usr/bin/env bash
# Debian's Chromium and chromedriver for hiper/WebTask-v0 (its `browser` tests). Does nothing when both are there.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "the browser tests need Chromium and chromedriver on PATH (Debian: apt-get install chromium chromium-driver);" \
       "install them, or run pytest -m 'not slow and not browser' to leave those tests out" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != "0" ]; then sudo="sudo"; fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
chromium --version 2>/dev/null | head -n 1
