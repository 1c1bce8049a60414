# NSS softoken (libsoftokn3), the second PKCS#11 implementation the tests run the hierarchy on
# (issue 14; docs/hsm-portability.md). Debian/Ubuntu: libnss3; Fedora: nss-softokn; macOS: brew nss.
# KEYSTRATA_NSS_SOFTOKEN overrides where the tests look for it.
nss_found=
for candidate in /usr/lib/*/libsoftokn3.so /usr/lib64/libsoftokn3.so /usr/lib/libsoftokn3.so /opt/homebrew/lib/libsoftokn3.dylib /usr/local/lib/libsoftokn3.dylib; do
  [ -e "$candidate" ] && nss_found=1
done
if [ -z "${KEYSTRATA_NSS_SOFTOKEN:-}" ] && [ -z "$nss_found" ]; then
  if command -v apt-get >/dev/null; then
    log "installing libnss3 (NSS softoken)"
    apt_install libnss3
  elif command -v brew >/dev/null; then
    brew install nss
  else
    log "please install NSS softoken (libsoftokn3): Debian libnss3, Fedora nss-softokn"
  fi
fi
