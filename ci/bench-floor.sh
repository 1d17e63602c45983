#!/usr/bin/env bash
# Times `mpdiff run -t unix32` against its floor: the very same driver scripts and trees run
# by bare `micropython` processes from a shell loop, started the way the unix32 target
# starts them (`setarch -R` where that works, `-X heapsize=<heap> ../driver.py` in the tree
# folder, empty environment, output thrown away).
#
#   ci/bench-floor.sh [PATHS...]          (default: scenarios/)
#
# Environment: RUNS (timed runs per command, default 5), WARMUP (default 1),
# CARGO_TARGET_DIR (default target/), JSON (where hyperfine's results go, optional).
# Needs hyperfine (apt-get install hyperfine) and jq.
#
# Prints the median wall time of each command and the harness overhead:
# `mpdiff --jobs 1` over the serial floor, and `mpdiff --jobs 2` / default over the floor
# run as two shell loops at once (scenarios dealt round-robin).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${RUNS:-5}
warmup=${WARMUP:-1}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
if [ $# -gt 0 ]; then paths=("$@"); else paths=(scenarios); fi

for tool in hyperfine jq; do
    command -v "$tool" >/dev/null || { echo "bench-floor: $tool is missing" >&2; exit 2; }
done

cargo build --quiet --release -p mpdiff --bin mpdiff --example dump_drivers
mpdiff=$CARGO_TARGET_DIR/release/mpdiff

scratch=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && scratch=/dev/shm
work=$(mktemp -d "$scratch/mpdiff-floor-XXXXXX")
trap 'rm -rf "$work"' EXIT

# Builds the reference on first use, like `mpdiff run` would.
"$CARGO_TARGET_DIR/release/examples/dump_drivers" "$work/d" "${paths[@]}"
count=$(wc -l <"$work/d/manifest.tsv")

# floor.sh DIR K I: runs every K-th scenario starting at the I-th (0-based), one bare
# micropython process each; prints how many exited with a non-zero code.
cat >"$work/floor.sh" <<'EOF'
d=$1 k=$2 i=$3
mapfile -t launcher <"$d/launcher"
bad=0 line=0
while IFS=$'\t' read -r n heap _; do
    if [ $((line % k)) -eq "$i" ]; then
        cd "$d/$n/tree"
        "${launcher[@]}" -X "heapsize=$heap" ../driver.py </dev/null >/dev/null 2>&1 || bad=$((bad + 1))
    fi
    line=$((line + 1))
done <"$d/manifest.tsv"
echo "$bad"
EOF
# pfloor.sh DIR: two loops at once.
cat >"$work/pfloor.sh" <<EOF
bash $work/floor.sh \$1 2 0 >/dev/null & bash $work/floor.sh \$1 2 1 >/dev/null & wait
EOF

# The floor must run every script to its end, or it is not the same work.
bad=$(env -i bash "$work/floor.sh" "$work/d" 1 0)
echo "bench-floor: $count scenarios; $bad of them exited with a non-zero code in the floor loop"

json=${JSON:-$work/hyperfine.json}
args=()
for p in "${paths[@]}"; do args+=("$(printf '%q' "$p")"); done
echo "bench-floor: load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
hyperfine --runs "$runs" --warmup "$warmup" --ignore-failure --style basic \
    --export-json "$json" \
    -n floor-1 "env -i bash $work/floor.sh $work/d 1 0" \
    -n mpdiff-jobs-1 "$mpdiff run -t unix32 --jobs 1 ${args[*]} >/dev/null" \
    -n floor-2 "env -i bash $work/pfloor.sh $work/d" \
    -n mpdiff-jobs-2 "$mpdiff run -t unix32 --jobs 2 ${args[*]} >/dev/null" \
    -n mpdiff-default "$mpdiff run -t unix32 ${args[*]} >/dev/null" >&2
echo "bench-floor: load after: $(cut -d' ' -f1-3 /proc/loadavg)"

median() { jq -r --arg n "$1" '.results[] | select(.command == $n) | .median' "$json"; }
f1=$(median floor-1) j1=$(median mpdiff-jobs-1)
f2=$(median floor-2) j2=$(median mpdiff-jobs-2) jd=$(median mpdiff-default)
awk -v f1="$f1" -v j1="$j1" -v f2="$f2" -v j2="$j2" -v jd="$jd" -v n="$count" -v r="$runs" 'BEGIN {
    printf "median of %d runs, %d scenarios on unix32\n", r, n
    printf "  floor, one loop           %7.3f s\n", f1
    printf "  mpdiff run --jobs 1       %7.3f s   overhead %+.1f%% over floor\n", j1, (j1 / f1 - 1) * 100
    printf "  floor, two loops          %7.3f s\n", f2
    printf "  mpdiff run --jobs 2       %7.3f s   overhead %+.1f%% over two-loop floor\n", j2, (j2 / f2 - 1) * 100
    printf "  mpdiff run (default jobs) %7.3f s   overhead %+.1f%% over two-loop floor\n", jd, (jd / f2 - 1) * 100
}'
