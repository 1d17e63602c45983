#!/usr/bin/env bash
# Times `mpdiff run -t unix32` against its floor: the very same driver scripts and trees run
# by bare `micropython` processes from a shell loop, started the way the unix32 target
# starts them (`setarch -R` where that works, `-X heapsize=<heap> ../driver.py` in the tree
# folder, empty environment, output thrown away).
#
#   ci/bench-floor.sh [PATHS...]          (default: scenarios/)
#
# Environment: RUNS (timed rounds, default 5), WARMUP (untimed rounds first, default 1),
# CARGO_TARGET_DIR (default target/).
#
# Prints, per command, the median wall time and the median CPU time (user + system of
# every process it started, which moves less with the machine's load), and the harness
# overhead: `mpdiff --jobs 1` over the one-loop floor, `mpdiff --jobs 2` and the default
# (one job per CPU) over the floor run as two shell loops at once (scenarios dealt
# round-robin). Last, the start-up floor (the same processes on an empty script) and the
# floor minus it, in wall and in CPU time: what 1.9.4 itself spends running the scenarios,
# which is what the in-process `rust` target is up against once process start-up is gone.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=${RUNS:-5}
warmup=${WARMUP:-1}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
if [ $# -gt 0 ]; then paths=("$@"); else paths=(scenarios); fi

cargo build --quiet --release -p mpdiff --bin mpdiff --example dump_drivers
mpdiff=$CARGO_TARGET_DIR/release/mpdiff

scratch=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && scratch=/dev/shm
work=$(mktemp -d "$scratch/mpdiff-floor-XXXXXX")
trap 'rm -rf "$work"' EXIT

# Builds the reference on first use, like `mpdiff run` would.
"$CARGO_TARGET_DIR/release/examples/dump_drivers" "$work/d" "${paths[@]}"
count=$(wc -l <"$work/d/manifest.tsv")

# floor.sh DIR K I [SCRIPT]: runs every K-th scenario starting at the I-th (0-based), one
# bare micropython process each, on its driver (or on SCRIPT); prints how many exited with a
# non-zero code.
cat >"$work/floor.sh" <<'EOF'
d=$1 k=$2 i=$3 script=${4:-../driver.py}
mapfile -t launcher <"$d/launcher"
bad=0 line=0
while IFS=$'\t' read -r n heap _; do
    if [ $((line % k)) -eq "$i" ]; then
        cd "$d/$n/tree"
        "${launcher[@]}" -X "heapsize=$heap" "$script" </dev/null >/dev/null 2>&1 || bad=$((bad + 1))
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

# The start-up floor: the same processes on an empty script, so the floor minus this is
# what 1.9.4 itself spends running the scenarios (what an in-process target competes with).
: >"$work/empty.py"

# Commands run interleaved (one of each per round), so a change in the machine's load
# shifts all of them alike; bash's `time` gives wall and CPU (user + system) seconds.
names=(floor-1 mpdiff-jobs-1 floor-2 mpdiff-jobs-2 mpdiff-default startup-1)
cmds=(
    "env -i bash $work/floor.sh $work/d 1 0"
    "$mpdiff run -t unix32 --jobs 1 ${paths[*]}"
    "env -i bash $work/pfloor.sh $work/d"
    "$mpdiff run -t unix32 --jobs 2 ${paths[*]}"
    "$mpdiff run -t unix32 ${paths[*]}"
    "env -i bash $work/floor.sh $work/d 1 0 $work/empty.py"
)
echo "bench-floor: load before: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
TIMEFORMAT='%R %U %S'
for ((r = -warmup; r < runs; r++)); do
    for c in "${!names[@]}"; do
        out=/dev/null
        [ "$r" -ge 0 ] && out=$work/t-${names[$c]}
        { time bash -c "${cmds[$c]}" >/dev/null 2>&1; } 2>>"$out" || true
    done
done
echo "bench-floor: load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# median NAME FIELD: the median of one column (1 wall, 4 = user + system).
median() {
    awk '{ print $1, $2, $3, $2 + $3 }' "$work/t-$1" | sort -g -k"$2" | awk -v k="$2" '{ v[NR] = $k } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
report() {
    local f1 j1 f2 j2 jd
    f1=$(median floor-1 "$1") j1=$(median mpdiff-jobs-1 "$1")
    f2=$(median floor-2 "$1") j2=$(median mpdiff-jobs-2 "$1") jd=$(median mpdiff-default "$1")
    awk -v f1="$f1" -v j1="$j1" -v f2="$f2" -v j2="$j2" -v jd="$jd" -v what="$2" 'BEGIN {
        printf "%s\n", what
        printf "  floor, one loop           %7.3f s\n", f1
        printf "  mpdiff run --jobs 1       %7.3f s   %+6.1f%% over the one-loop floor\n", j1, (j1 / f1 - 1) * 100
        printf "  floor, two loops          %7.3f s\n", f2
        printf "  mpdiff run --jobs 2       %7.3f s   %+6.1f%% over the two-loop floor\n", j2, (j2 / f2 - 1) * 100
        printf "  mpdiff run (default jobs) %7.3f s   %+6.1f%% over the two-loop floor\n", jd, (jd / f2 - 1) * 100
    }'
}
echo "median of $runs interleaved runs, $count scenarios on unix32"
report 1 "wall time"
report 4 "CPU time (user + system, all processes)"
for field in 1 4; do
    s1=$(median startup-1 "$field") f1=$(median floor-1 "$field")
    awk -v s="$s1" -v f="$f1" -v n="$count" -v what="$([ "$field" = 1 ] && echo wall || echo CPU)" 'BEGIN {
        printf "start-up floor, %s (one loop, empty script)      %7.3f s\n", what, s
        printf "1.9.4 running the scenarios, %s (floor - start-up) %7.3f s, %.2f ms a scenario\n", what, f - s, (f - s) * 1000 / n
    }'
done
