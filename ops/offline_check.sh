#!/bin/sh
# End-to-end check of the offline install (README "Running at an office"): build the bundle (this
# needs the package index), unpack it into a temporary folder, then in a network namespace with no
# network at all (`unshare -n`: run as root) install it with ops/install.sh and start `make run`
# (which builds the full demo, then serves it), and ask the dashboard's health endpoint and page.
#
#   sh ops/offline_check.sh                 # builds dist/minqing-*.tar.gz first
#   ARCHIVE=dist/minqing-0.1.0-linux_x86_64-py311.tar.gz sh ops/offline_check.sh   # reuses one
#
# Not part of `make test`: it downloads ~300 MB of wheels and takes minutes.
set -eu
cd "$(dirname "$0")/.."
ARCHIVE=${ARCHIVE:-}
PORT=${PORT:-8599}
if [ -z "$ARCHIVE" ]; then
    PY=$( [ -x .venv/bin/python ] && echo .venv/bin/python || command -v python3.11 )
    ARCHIVE=$("$PY" ops/bundle.py ${WHEELS_CACHE:+--wheels-cache "$WHEELS_CACHE"} | tail -1 | cut -d' ' -f1)
fi
echo "bundle: $ARCHIVE ($(du -h "$ARCHIVE" | cut -f1))"
PYTHON=${PYTHON:-$(python3.11 -c 'import sys; print(sys.executable)')}  # the real binary (no pyenv shim: HOME changes)
WORK=$(mktemp -d /tmp/minqing-offline.XXXXXX)
tar --no-same-owner -xzf "$ARCHIVE" -C "$WORK"
DIR=$(echo "$WORK"/minqing-*)
mkdir "$WORK/home"
# No pip configuration of this machine (an index, find-links or a local mirror) may take part.
status=0
env -i PATH="$PATH" HOME="$WORK/home" LANG=C.UTF-8 PIP_CONFIG_FILE=/dev/null PORT="$PORT" DIR="$DIR" \
    PYTHON="$PYTHON" unshare -n sh -eu -c '
ip link set lo up  # loopback only: the dashboard listens on 127.0.0.1
if curl -s -m 5 -o /dev/null https://pypi.org; then echo "FAIL: the network is reachable" >&2; exit 1; fi
cd "$DIR"
sh ops/install.sh
setsid make run PORT="$PORT" > run.log 2>&1 &
PGID=$!
ok=""
for i in $(seq 1 900); do
    if [ "$(curl -s -m 2 "http://127.0.0.1:$PORT/_stcore/health" || true)" = "ok" ]; then ok=1; break; fi
    if ! kill -0 "$PGID" 2>/dev/null; then break; fi
    sleep 1
done
page=$(curl -s -m 5 "http://127.0.0.1:$PORT/" || true)
kill -- -"$PGID" 2>/dev/null || true
cat run.log | tail -15
if [ -n "$ok" ] && echo "$page" | grep -qi "<html"; then
    echo "PASS: installed and served the demo at http://127.0.0.1:$PORT with no network (health: ok)"
else
    echo "FAIL: the dashboard did not answer (see $DIR/run.log)" >&2; exit 1
fi
' || status=$?
if [ "$status" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "kept: $WORK"; fi
exit "$status"
