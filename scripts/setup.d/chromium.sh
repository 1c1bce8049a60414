# The demo's browser test drives Debian's Chromium with playwright-core (no browser download).
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
  if command -v apt-get >/dev/null; then
    log "installing chromium (for the demo's browser test)"
    apt_install chromium
  else
    log "chromium not found: the demo's browser test needs it (set KEYSTRATA_CHROMIUM to its path)"
  fi
fi
