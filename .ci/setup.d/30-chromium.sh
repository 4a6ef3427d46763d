# Debian's Chromium for the browser end-to-end test (driven by playwright-core,
# which never downloads a browser of its own).
[ -x /usr/bin/chromium ] || apt-get install -y -qq --no-install-recommends chromium >/dev/null
