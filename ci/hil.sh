#!/usr/bin/env bash
# Hardware-in-the-loop run: the scenario library on a board over its serial port.
#
#   ci/hil.sh --port /dev/ttyUSB0 [--flash IMAGE|URL]   a real ESP8266 (MicroPython 1.9.4)
#   ci/hil.sh --pty                                      the Rust firmware on a pseudo-terminal
#
# On a real board it records golden/<scenario>@esp8266.snap (mpdiff record) and diffs the
# board against unix32. With --pty it serves `mpfw serve --pty --line-rate BAUD` (a UART's
# pace, so the timings mean something) and runs the same library through the raw REPL;
# the Rust firmware is not a reference, so nothing is recorded. Either way the report
# (JSON lines, diff, traffic summary) lands in the output folder, which CI keeps.
#
# Options:
#   --port PORT        serial port of the board
#   --pty              serve the Rust firmware on a pseudo-terminal instead (no flashing)
#   --flash IMAGE      flash this image first (a path, or an http(s) URL fetched here);
#                      its sha256 must equal ci/esp8266-20180511-v1.9.4.bin.sha256
#   --baud B           line rate (default 115200)
#   --out DIR          report folder (default target/hil)
#   --scenarios DIR    scenario folder (default scenarios)
#   --no-record        do not write golden snapshots
#   --release          build mpdiff and mpfw with --release
#   --strict           with --pty, also fail when an expectation or the agreement with
#                      unix32 fails (the firmware's fidelity, reported by `cargo test`)
#
# Exit code: the worst of the mpdiff commands run (0 ok, 1 expectation or agreement
# failed, 2 usage, 3 a target could not run), or 4 when this script itself fails. With
# --pty and without --strict, 1 counts as 0: the job checks the serial path, and the
# report still lists every disagreement.
set -euo pipefail

die() { echo "hil: $*" >&2; exit 4; }

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT=""
PTY=0
FLASH=""
BAUD=115200
OUT="$ROOT/target/hil"
SCENARIOS="$ROOT/scenarios"
RECORD=1
STRICT=0
PROFILE=debug
CARGO_FLAGS=()
ESPTOOL_VERSION=4.7.0
PIN_FILE="$ROOT/ci/esp8266-20180511-v1.9.4.bin.sha256"

while [ $# -gt 0 ]; do
    case "$1" in
        --port) PORT="${2:?--port needs a port}"; shift 2 ;;
        --pty) PTY=1; shift ;;
        --flash) FLASH="${2:?--flash needs an image path or URL}"; shift 2 ;;
        --baud) BAUD="${2:?--baud needs a number}"; shift 2 ;;
        --out) OUT="${2:?--out needs a folder}"; shift 2 ;;
        --scenarios) SCENARIOS="${2:?--scenarios needs a folder}"; shift 2 ;;
        --no-record) RECORD=0; shift ;;
        --release) PROFILE=release; CARGO_FLAGS=(--release); shift ;;
        --strict) STRICT=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option $1 (try --help)" ;;
    esac
done

if [ "$PTY" = 1 ] && [ -n "$PORT" ]; then die "give --port or --pty, not both"; fi
if [ "$PTY" = 0 ] && [ -z "$PORT" ]; then die "give --port PORT or --pty"; fi
if [ "$PTY" = 1 ] && [ -n "$FLASH" ]; then die "--flash needs a real board (--port)"; fi

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

echo "hil: building mpdiff and mpfw ($PROFILE)"
(cd "$ROOT" && cargo build "${CARGO_FLAGS[@]}" -p mpdiff -p mpfw --bins) || die "build failed"
MPDIFF="$TARGET_DIR/$PROFILE/mpdiff"
MPFW="$TARGET_DIR/$PROFILE/mpfw"
[ -x "$MPDIFF" ] || die "no mpdiff binary at $MPDIFF"

SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT INT TERM

if [ -n "$FLASH" ]; then
    IMAGE="$FLASH"
    case "$FLASH" in
        http://*|https://*)
            IMAGE="$OUT/$(basename "$FLASH")"
            echo "hil: fetching $FLASH"
            curl -fsSL -o "$IMAGE" "$FLASH" || die "could not fetch $FLASH"
            ;;
    esac
    [ -f "$IMAGE" ] || die "no image at $IMAGE"
    WANT="$(grep -Eo '^[0-9a-f]{64}' "$PIN_FILE" || true)"
    GOT="$(sha256sum "$IMAGE" | cut -d' ' -f1)"
    [ -n "$WANT" ] || die "no sha256 pinned in $PIN_FILE; the image's is $GOT: check it against micropython.org, then pin it there"
    [ "$WANT" = "$GOT" ] || die "sha256 of $IMAGE is $GOT, pinned is $WANT: refusing to flash"
    VENV="$OUT/venv"
    [ -x "$VENV/bin/esptool.py" ] || {
        python3 -m venv "$VENV" || die "python3 -m venv failed"
        "$VENV/bin/pip" install --quiet "esptool==$ESPTOOL_VERSION" || die "pip install esptool failed"
    }
    echo "hil: flashing $IMAGE to $PORT"
    "$VENV/bin/esptool.py" --port "$PORT" erase_flash
    "$VENV/bin/esptool.py" --port "$PORT" --baud 460800 write_flash --flash_size=detect 0 "$IMAGE"
    # First boot formats the filesystem; give it time before the raw REPL.
    sleep 5
fi

if [ "$PTY" = 1 ]; then
    [ -x "$MPFW" ] || die "no mpfw binary at $MPFW"
    "$MPFW" serve --pty --line-rate "$BAUD" > "$OUT/pty-path" &
    SERVER_PID=$!
    for _ in $(seq 100); do
        [ -s "$OUT/pty-path" ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || die "mpfw serve --pty exited"
        sleep 0.05
    done
    PORT="$(head -n1 "$OUT/pty-path")"
    [ -n "$PORT" ] || die "mpfw serve --pty printed no path"
    echo "hil: Rust firmware served on $PORT"
fi

TARGET="board:$PORT"
WORST=0
note() { local rc=$1; [ "$rc" -gt "$WORST" ] && WORST=$rc; return 0; }

echo "hil: running $SCENARIOS on $TARGET"
START=$(date +%s)
set +e
"$MPDIFF" run --target "$TARGET" --baud "$BAUD" --format json "$SCENARIOS" > "$OUT/board.jsonl"
note $?
END=$(date +%s)

if [ "$PTY" = 0 ] && [ "$RECORD" = 1 ]; then
    echo "hil: recording golden snapshots for the ESP8266"
    rm -rf "$OUT/golden-record"
    "$MPDIFF" record --target "$TARGET" --baud "$BAUD" --golden "$OUT/golden-record" "$SCENARIOS"
    note $?
    LABEL="$(echo "$TARGET" | sed 's/[^A-Za-z0-9]\+/_/g; s/_$//')"
    find "$OUT/golden-record" -name "*@*.snap" | while read -r f; do
        rel="${f#"$OUT/golden-record/"}"
        dest="$ROOT/golden/${rel%@*.snap}@esp8266.snap"
        mkdir -p "$(dirname "$dest")"
        cp "$f" "$dest"
    done
    echo "hil: golden/*@esp8266.snap written (label was $LABEL)"
fi

echo "hil: diffing $TARGET against unix32"
"$MPDIFF" diff unix32 "$TARGET" --baud "$BAUD" "$SCENARIOS" > "$OUT/diff-unix32.txt" 2>&1
note $?
set -e

python3 - "$OUT/board.jsonl" "$BAUD" "$((END - START))" > "$OUT/transfer.txt" <<'PY' || die "could not summarise the traffic"
import json, sys
path, baud, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sent = recv = wall = n = 0
statuses = {}
for line in open(path):
    line = line.strip()
    if not line.startswith('{'):
        continue
    o = json.loads(line)
    n += 1
    statuses[o.get('status')] = statuses.get(o.get('status'), 0) + 1
    t = o.get('transfer') or {}
    sent += t.get('bytes_sent', 0)
    recv += t.get('bytes_received', 0)
    wall += t.get('wall_ms', 0)
floor = (sent + recv) * 10 / baud
print(f"scenarios      {n} {statuses}")
print(f"bytes sent     {sent}")
print(f"bytes received {recv}")
print(f"wall time      {wall / 1000:.1f} s in scenarios, {secs} s for the whole run")
print(f"line floor     {floor:.1f} s ((sent + received) x 10 bits at {baud} bit/s)")
if floor > 0:
    print(f"wall / floor   {wall / 1000 / floor:.2f}")
PY
cat "$OUT/transfer.txt"
if [ "$PTY" = 1 ] && [ "$STRICT" = 0 ] && [ "$WORST" = 1 ]; then
    echo "hil: some scenarios disagree or fail their expectations (see $OUT); not fatal with --pty"
    WORST=0
fi
echo "hil: report in $OUT (exit $WORST)"
exit "$WORST"
