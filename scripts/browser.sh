#!/usr/bin/env bash
# Installs what the browser end-to-end run needs: Debian's Chromium (playwright's own browser
# download cannot work here) at /usr/bin/chromium.
set -euo pipefail
if [ ! -x /usr/bin/chromium ]; then
  echo "browser: installing chromium" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
/usr/bin/chromium --version >&2
