# FerretDB 1.24 (MongoDB wire protocol on SQLite) for the Mongoose tests and demo; no MongoDB binary
# can be installed here. Skipped when MONGODB_URI points at a real MongoDB. Needs Go >= 1.21.
# A plain `go install …/cmd/ferretdb@v1.24.2` builds a binary that panics at start (it lacks
# build/version/version.txt), so build from the module source with that file written.
FERRETDB_VERSION=v1.24.2
if [ -z "${MONGODB_URI:-}" ] && command -v go >/dev/null; then
  FERRETDB_BIN="${KEYSTRATA_FERRETDB_BIN:-$(go env GOPATH)/bin/ferretdb}"
  if ! "$FERRETDB_BIN" --version 2>/dev/null | grep -q "${FERRETDB_VERSION#v}"; then
    log "building FerretDB $FERRETDB_VERSION"
    src_dir="$(GOFLAGS=-mod=mod go mod download -json "github.com/FerretDB/FerretDB@${FERRETDB_VERSION}" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    build_dir="$(mktemp -d)"
    cp -r "$src_dir/." "$build_dir" && chmod -R u+w "$build_dir"
    echo "$FERRETDB_VERSION" > "$build_dir/build/version/version.txt"
    mkdir -p "$(dirname "$FERRETDB_BIN")"
    (cd "$build_dir" && GOFLAGS=-mod=mod go build -trimpath -o "$FERRETDB_BIN" ./cmd/ferretdb)
    rm -rf "$build_dir"
  fi
elif [ -z "${MONGODB_URI:-}" ]; then
  log "Go not found: install Go >= 1.21 for FerretDB, or set MONGODB_URI to a MongoDB server"
fi
