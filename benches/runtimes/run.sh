#!/usr/bin/env bash
# Runtime benchmark: the same workload on our runtime and the two reference
# runtimes (millrace-ai 0.5.2 from crates.io, millrace-ai 0.20.0 from PyPI).
#
# N tasks go through builder -> checker -> updater; every stage is one
# invocation of the same fake `codex exec` (fake_codex.c). Prints, per N and
# runtime: wall time per task, runtime overhead per stage (wall time minus the
# time spent inside the fake, divided by the stages run), CPU overhead per
# stage, and peak RSS; writes the table to RESULTS.md.
#
# Usage: benches/runtimes/run.sh
# Environment (all optional):
#   NS="10 100 1000"        task counts of the main runs ("" to skip them)
#   RUNTIMES="ours rust-0.5.2 py-0.20.0"
#   REPEAT=3                runs per (runtime, N) for N <= 100; the table shows the
#                           median by wall time
#   REPEAT_LARGE=1          runs per (runtime, N) for N > 100
#   MAXTICKS_NS="10"        also drive every runtime one `run daemon --max-ticks 1`
#                           per stage at these N ("" to skip)
#   NOSYNC_NS="10 100 1000" also run the daemons at these N under eatmydata (fsync,
#                           fdatasync and sync made no-ops), to show what the disk
#                           costs ("" to skip; installs eatmydata via apt-get if missing)
#   TMPFS_NS="10 100 1000"  also run the daemons at these N with the workspace on tmpfs
#                           (TMPFS_DIR, default /dev/shm): no disk at all ("" to skip)
#   SYSCALLS_N=10           also run every daemon once at this N under `strace -f -c`
#                           to count fsyncs, renames and opens per stage ("" to skip)
#   K=200                   direct invocations of the fake per timing batch
#   FAKE_BATCHES=5          timing batches after each run; the fastest counts
# `run.sh recalibrate` re-times the fake for every row of $BENCH_WORK/results.tsv
# (from the workspaces kept there; the fastest batch of all timings of a row
# counts) and rewrites the report.
#   POLL=0.02               seconds between checks of tasks/done
#   TIMEOUT_S=5400          give up on one run after this long
#   BENCH_CACHE=~/.cache/millrace-bench   where the references are installed
#   BENCH_WORK=<mktemp -d>  where workspaces, logs and results.tsv go; rows are added
#                           to an existing results.tsv there, so a later run with other
#                           settings and the same BENCH_WORK extends the same report
#   RESULTS=<this dir>/RESULTS.md
#   CARGO_TARGET_DIR        as for cargo (default <repo>/target)
#   CARGO_FEATURES          features of our build, e.g. "portable-platform" to
#                           measure the portable platform (macOS's code) on Linux;
#                           give it its own CARGO_TARGET_DIR
set -euo pipefail
shopt -s nullglob

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
NS=${NS-"10 100 1000"}
RUNTIMES=${RUNTIMES:-"ours rust-0.5.2 py-0.20.0"}
REPEAT=${REPEAT:-3}
REPEAT_LARGE=${REPEAT_LARGE:-1}
MAXTICKS_NS=${MAXTICKS_NS-"10"}
NOSYNC_NS=${NOSYNC_NS-"10 100 1000"}
SYSCALLS_N=${SYSCALLS_N-10}
TMPFS_NS=${TMPFS_NS-"10 100 1000"}
TMPFS_DIR=${TMPFS_DIR:-/dev/shm}
K=${K:-200}
FAKE_BATCHES=${FAKE_BATCHES:-5}
POLL=${POLL:-0.02}
TIMEOUT_S=${TIMEOUT_S:-5400}
CACHE=${BENCH_CACHE:-$HOME/.cache/millrace-bench}
WORK=${BENCH_WORK:-$(mktemp -d /tmp/millrace-bench.XXXXXX)}
RESULTS=${RESULTS:-$HERE/RESULTS.md}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
TSV=$WORK/results.tsv
NOTES=$WORK/notes
mkdir -p "$CACHE" "$WORK/bin" "$NOTES"

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
# A real python3 binary (pyenv's shim is a shell script costing ~0.5 s a call).
PY=$(python3 -c 'import sys; print(sys.executable)')

# ---------------------------------------------------------------- set-up

ensure_time() {
    if [[ -x /usr/bin/time ]]; then return 0; fi
    log "installing GNU time"
    apt-get update -qq && apt-get install -y -qq time >/dev/null
}

ensure_strace() {
    if [[ -z $SYSCALLS_N ]] || command -v strace >/dev/null; then return 0; fi
    log "installing strace"
    apt-get update -qq && apt-get install -y -qq strace >/dev/null
}

ensure_eatmydata() {
    if [[ -z $NOSYNC_NS || -x /usr/bin/eatmydata ]]; then return 0; fi
    log "installing eatmydata"
    apt-get update -qq && apt-get install -y -qq eatmydata >/dev/null
}

# Each install leaves the binary path in $NOTES/<runtime>.bin, or its error
# output in $NOTES/<runtime>.error.
install_rust_ref() {
    local bin=$CACHE/rust-ref/bin/millrace
    if [[ ! -x $bin ]]; then
        log "installing millrace-ai 0.5.2 from crates.io (cargo install)"
        if ! cargo install millrace-ai --version 0.5.2 --locked --root "$CACHE/rust-ref" \
            >"$CACHE/rust-ref-install.log" 2>&1; then
            cp "$CACHE/rust-ref-install.log" "$NOTES/rust-0.5.2.error"
            return 0
        fi
    fi
    echo "$bin" >"$NOTES/rust-0.5.2.bin"
    "$bin" --version >"$NOTES/rust-0.5.2.version" 2>&1 || true
}

install_py_ref() {
    local venv=$CACHE/py-ref bin=$CACHE/py-ref/bin/millrace
    if [[ ! -x $bin ]]; then
        log "installing millrace-ai 0.20.0 from PyPI (venv + pip; typer<0.26, see the inventory)"
        if ! { "$PY" -m venv "$venv" &&
            "$venv/bin/pip" install -q 'millrace-ai==0.20.0' 'typer<0.26'; } \
            >"$CACHE/py-ref-install.log" 2>&1; then
            cp "$CACHE/py-ref-install.log" "$NOTES/py-0.20.0.error"
            return 0
        fi
    fi
    if ! "$bin" --version >"$NOTES/py-0.20.0.version" 2>&1; then
        cp "$NOTES/py-0.20.0.version" "$NOTES/py-0.20.0.error"
        return 0
    fi
    echo "$bin" >"$NOTES/py-0.20.0.bin"
    "$venv/bin/python" --version >>"$NOTES/py-0.20.0.version" 2>&1
}

build_ours() {
    log "building ours (cargo build --release ${CARGO_FEATURES:+--features $CARGO_FEATURES})"
    (cd "$ROOT" && cargo build --release --quiet ${CARGO_FEATURES:+--features "$CARGO_FEATURES"})
    echo "$CARGO_TARGET_DIR/release/millrace" >"$NOTES/ours.bin"
    (cd "$ROOT" && echo "$(git log -1 --format=%h -- src Cargo.toml Cargo.lock loops modes assets grammar)" \
        "(last commit of the runtime's sources; built at $(git rev-parse --short HEAD)${CARGO_FEATURES:+, features: $CARGO_FEATURES})") \
        >"$NOTES/ours.version"
}

# The fake agent, static when the C library allows it (no loader work per stage).
build_tools() {
    gcc -O2 -static -o "$WORK/bin/fake_codex" "$HERE/fake_codex.c" 2>/dev/null ||
        gcc -O2 -o "$WORK/bin/fake_codex" "$HERE/fake_codex.c"
    gcc -O2 -o "$WORK/bin/spawn_loop" "$HERE/spawn_loop.c"
    gcc -O2 -o "$WORK/bin/fsync_probe" "$HERE/fsync_probe.c"
    FAKE=$WORK/bin/fake_codex
    SPAWN=$WORK/bin/spawn_loop
    PROBE=$WORK/bin/fsync_probe
}

# Why the C fake: the same answer from fake_codex.py costs interpreter start-up.
time_fake_variants() {
    local prompt=$WORK/sample_prompt.txt
    printf 'Legal markers:\n### BUILDER_COMPLETE\n### BLOCKED\n' >"$prompt"
    {
        echo "c_static $("$SPAWN" "$K" "$prompt" "$FAKE" exec --json | tr '\n' ' ')"
        echo "python $("$SPAWN" 30 "$prompt" "$PY" "$HERE/fake_codex.py" exec --json | tr '\n' ' ')"
    } >"$NOTES/fake_variants.txt"
}

machine_notes() {
    {
        echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
        echo "cores: $(nproc)"
        echo "memory: $(free -m | awk '/Mem:/ {print $2 " MB"}')"
        echo "kernel: $(uname -sr)"
        echo "filesystem of workspaces: $(df -T "$WORK" | awk 'NR==2 {print $2}')"
        echo "rustc: $(rustc --version)"
        echo "python: $("$PY" --version 2>&1)"
        echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    } >>"$NOTES/machine.txt"
}

# ---------------------------------------------------------------- workspaces

write_tasks() {
    local dir=$1 n=$2 i id
    for ((i = 1; i <= n; i++)); do
        printf -v id 'task-bench-%05d' "$i"
        printf '%s\n' "# Bench task $i" "" "Task-ID: $id" "Title: Bench task $i" \
            "Summary: Benchmark task $i." "Created-At: 2026-01-01T00:00:00Z" \
            "Created-By: bench" "" "Target-Paths:" "- bench/$id.txt" "" "Acceptance:" \
            "- done" "" "Required-Checks:" "- true" "" "References:" "- none" "" \
            "Risk:" "- low" >"$dir/$id.md"
    done
}

# Ours: our `codex_cli` runner on the fake (`[runners.codex] command`), in the
# default mode `default_codex`: the same runner kind the references use.
prepare_ours() {
    local bin=$1 ws=$2 agents=$2/millrace-agents
    "$bin" init --workspace "$ws" >/dev/null
    # The template's `[runners.codex]` table names `command = "codex"`.
    sed -i "s|^command = \"codex\"|command = \"$FAKE\"|" "$agents/millrace.toml"
    grep -q "^command = \"$FAKE\"" "$agents/millrace.toml"
}

# The references: their codex runner, with `runners.codex.command` = the fake.
prepare_ref() {
    local bin=$1 ws=$2 toml=$2/millrace-agents/millrace.toml
    "$bin" init --workspace "$ws" >/dev/null
    grep -q '^\[runners.codex\]' "$toml" || printf '\n[runners.codex]\n' >>"$toml"
    sed -i "s|^\[runners.codex\]|[runners.codex]\ncommand = \"$FAKE\"|" "$toml"
}

daemon_argv() { # runtime bin ws -> DAEMON argv
    case $1 in
    ours) DAEMON=("$2" run daemon --workspace "$3" --mode default_codex --until-idle) ;;
    *) DAEMON=("$2" run daemon --workspace "$3") ;;
    esac
}

# ---------------------------------------------------------------- one run

read_rss() { # pid -> RSS (kB), 0 when gone
    local k v rest
    RSS=0
    { while read -r k v rest; do
        [[ $k == VmRSS: ]] && RSS=$v && return 0
    done <"/proc/$1/status"; } 2>/dev/null || true
}

# Waits until tasks/done holds n files, sampling the daemon's RSS.
# Sets T_DONE, RSS_EARLY (first sample with >= n/10 done), RSS_LATE, RSS_MAX.
# Returns 1 if the daemon exited first, 2 on timeout.
watch_run() {
    local pid=$1 dir=$2 n=$3 start=$4 files count
    RSS_EARLY=0 RSS_LATE=0 RSS_MAX=0
    while :; do
        files=("$dir"/*.md)
        count=${#files[@]}
        read_rss "$pid"
        if ((RSS > 0)); then
            RSS_LATE=$RSS
            ((RSS > RSS_MAX)) && RSS_MAX=$RSS
            ((RSS_EARLY == 0 && count * 10 >= n)) && RSS_EARLY=$RSS
        fi
        if ((count >= n)); then
            T_DONE=$EPOCHREALTIME
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        (($(elapsed_s "$start") > TIMEOUT_S)) && return 2
        sleep "$POLL"
    done
}

elapsed_s() { local now=${EPOCHREALTIME%.*} s=${1%.*}; echo $((now - s)); }
seconds_between() { "$PY" -c "print(f'{$2 - $1:.3f}')"; }

# Field from GNU time -v output.
time_field() { grep -F "$2" "$1" | head -1 | awk -F': ' '{print $2}'; }
cpu_seconds() {
    "$PY" -c "print(f'{$(time_field "$1" 'User time') + $(time_field "$1" 'System time'):.3f}')"
}

# Times the fake with the argv/stdin of one stage this runtime really ran:
# FAKE_BATCHES batches of K invocations; the fastest batch counts. The fake's
# cost is a property of the fake and the kernel; a slow batch measures the
# other tenants, and subtracting it would hide runtime overhead.
time_fake_like() { # runtime ws -> FAKE_MS FAKE_CPU_MS
    local rt=$1 ws=$2 agents=$2/millrace-agents out=$WORK/replay
    mkdir -p "$out"
    # Our invocation record holds `program` and `argv`; the references' holds
    # `command` (program first). Either way the stdin is closed.
    local inv=$(find "$agents/runs" \( -name 'invocation.*.json' -o -name 'runner_invocation.*.json' \) | head -1)
    local -a argv=()
    mapfile -d '' argv < <("$PY" - "$inv" "$out/last.txt" <<'EOF'
import json, sys
record = json.load(open(sys.argv[1]))
argv = [record["program"]] + record["argv"] if "program" in record else record["command"]
i = argv.index("--output-last-message")
argv[i + 1] = sys.argv[2]
sys.stdout.write("".join(a + "\0" for a in argv))
EOF
    )
    for ((b = 0; b < FAKE_BATCHES; b++)); do
        FAKE_CODEX_LOG=$out/fake.log "$SPAWN" "$K" - "${argv[@]}"
    done >"$out/timing.txt"
    FAKE_MS=$(awk '/^per_call_ms/ {print $2}' "$out/timing.txt" | sort -g | head -1)
    FAKE_CPU_MS=$(awk '/^cpu_per_call_ms/ {print $2}' "$out/timing.txt" | sort -g | head -1)
}

# Counts what the evidence says happened. Sets STAGES DONE BLOCKED INVOCATIONS OK_MARKERS.
count_evidence() { # ws n fakelog
    local agents=$1/millrace-agents n=$2
    STAGES=$(find "$agents/runs" -path '*/stage_results/*.json' | wc -l)
    DONE=$(find "$agents/tasks/done" -maxdepth 1 -name '*.md' | wc -l)
    BLOCKED=$(find "$agents/tasks/blocked" -maxdepth 1 -name '*.md' | wc -l)
    INVOCATIONS=$(wc -l <"$3" 2>/dev/null || echo 0)
    local b c u
    b=$(grep -cx BUILDER_COMPLETE "$3" || true)
    c=$(grep -cx CHECKER_PASS "$3" || true)
    u=$(grep -cx UPDATE_COMPLETE "$3" || true)
    OK_MARKERS=$([[ $b == "$n" && $c == "$n" && $u == "$n" ]] && echo yes || echo "no(b=$b,c=$c,u=$u)")
}

# What a durable small-file replace (write, fsync, rename, fsync dir) costs on
# the workspace's disk right now: the disk is shared, and this is most of what
# a stage costs when the disk is busy.
probe_disk() { "$PROBE" "$1" 30 | awk '{print $2}'; }

row() { # fields... -> results.tsv
    local IFS=$'\t'
    echo "$*" >>"$TSV"
}

# One daemon run of runtime $1 on $2 tasks; appends a row. $4 = "nosync" runs
# it under eatmydata, "tmpfs" with the workspace on tmpfs, "syscalls" under
# `strace -f -c` (counts only).
run_daemon_once() {
    local rt=$1 n=$2 rep=$3 variant=${4:-} bin driver=daemon wsroot=$WORK/ws
    local -a wrap=()
    case $variant in
    nosync) wrap=(eatmydata) driver=daemon-nosync ;;
    tmpfs) wsroot=$TMPFS_DIR/millrace-bench-$$ driver=daemon-tmpfs ;;
    syscalls)
        wrap=(strace -f -c -o "$WORK/logs/$rt-n$n-r$rep$variant.strace"
            -e trace=fsync,fdatasync,rename,renameat,renameat2,openat,execve)
        driver=daemon-syscalls
        ;;
    esac
    bin=$(cat "$NOTES/$rt.bin")
    local tag=$rt-n$n-r$rep$variant ws=$wsroot/$rt-n$n-r$rep$variant
    rm -rf "$ws"
    mkdir -p "$ws"
    if [[ $rt == ours ]]; then prepare_ours "$bin" "$ws"; else prepare_ref "$bin" "$ws"; fi
    write_tasks "$ws/millrace-agents/tasks/queue" "$n"
    daemon_argv "$rt" "$bin" "$ws"
    local fakelog=$WORK/logs/$tag.fake.log timef=$WORK/logs/$tag.time pidf=$WORK/logs/$tag.pid
    mkdir -p "$WORK/logs"
    rm -f "$fakelog" "$pidf"
    local load_before load_after start status=ok rc=0 disk
    disk=$(probe_disk "$ws")
    load_before=$(cut -d' ' -f1 /proc/loadavg)
    log "$rt N=$n (run $rep${variant:+, $variant}): ${wrap[*]} ${DAEMON[*]}"
    start=$EPOCHREALTIME
    FAKE_CODEX_LOG=$fakelog /usr/bin/time -v -o "$timef" \
        bash -c 'echo $$ >"$0"; exec "$@"' "$pidf" "${wrap[@]}" "${DAEMON[@]}" \
        >"$WORK/logs/$tag.out" 2>"$WORK/logs/$tag.err" </dev/null &
    local tpid=$!
    while [[ ! -s $pidf ]]; do sleep 0.001; done
    local dpid
    dpid=$(cat "$pidf")
    watch_run "$dpid" "$ws/millrace-agents/tasks/done" "$n" "$start" || rc=$?
    local t_done=${T_DONE:-}
    case $rc in
    1) status="failed:daemon-exited-early" ;;
    2) status="failed:timeout-${TIMEOUT_S}s" ;;
    esac
    if [[ $rt != ours ]]; then
        "$bin" stop --workspace "$ws" >"$WORK/logs/$tag.stop" 2>&1 || true
    elif ((rc == 2)); then
        kill -TERM "$dpid" 2>/dev/null || true
    fi
    if [[ $rt == ours && $rc != 2 ]]; then
        # Ours exits by itself once idle: wait for exactly that moment (a
        # sleep-and-check loop here would add up to its period to the wall
        # time), with a watchdog in case it does not.
        (sleep 60 && kill -TERM "$dpid" 2>/dev/null) &
        local watchdog=$!
        wait "$tpid" || true
        kill "$watchdog" 2>/dev/null || status="$status;no-exit-within-60s"
        wait "$watchdog" 2>/dev/null || true
    else
        local waited=0
        while kill -0 "$dpid" 2>/dev/null && ((waited < 600)); do
            sleep 0.1
            waited=$((waited + 1))
        done
        if kill -0 "$dpid" 2>/dev/null; then
            status="$status;stop-ignored"
            kill -TERM "$dpid" 2>/dev/null || true
        fi
        wait "$tpid" || true
    fi
    local t_exit=$EPOCHREALTIME
    load_after=$(cut -d' ' -f1 /proc/loadavg)
    # Ours exits by itself when idle: its wall time is the whole process (start-up
    # and shut-down included). The references run until told to stop: their wall
    # time ends when the N-th task reached tasks/done (seen within POLL seconds).
    local wall
    if [[ $rt == ours || -z $t_done ]]; then wall=$(seconds_between "$start" "$t_exit")
    else wall=$(seconds_between "$start" "$t_done"); fi
    count_evidence "$ws" "$n" "$fakelog"
    [[ $status == ok && $OK_MARKERS != yes ]] && status="failed:markers-$OK_MARKERS"
    [[ $status == ok && $DONE != "$n" ]] && status="failed:done=$DONE"
    FAKE_MS=nan FAKE_CPU_MS=nan
    ((STAGES > 0)) && time_fake_like "$rt" "$ws"
    row "$rt" "$n" "$driver" "$rep" "$status" "$wall" "$STAGES" "$INVOCATIONS" "$DONE" "$BLOCKED" \
        "$FAKE_MS" "$FAKE_CPU_MS" "$(cpu_seconds "$timef")" \
        "$(time_field "$timef" 'Maximum resident set size')" "$RSS_EARLY" "$RSS_LATE" \
        "$load_before" "$load_after" "$disk" "$WORK/ws/$tag"
    if [[ $variant == tmpfs ]]; then
        # Keep a copy of the evidence on disk for inspection; free the memory.
        mkdir -p "$WORK/ws"
        tar -C "$wsroot" -cf - "$tag" | tar -C "$WORK/ws" -xf -
        rm -rf "$ws"
    fi
    log "$rt N=$n ${variant}: status=$status wall=${wall}s stages=$STAGES peak_rss=$(time_field "$timef" 'Maximum resident set size')kB"
}

# Runtime $1 driven by `run daemon --max-ticks 1` once per stage, at most 4 * 3N times.
run_maxticks_once() {
    local rt=$1 n=$2 bin
    bin=$(cat "$NOTES/$rt.bin")
    local tag=$rt-n$n-maxticks ws=$WORK/ws/$rt-n$n-maxticks
    rm -rf "$ws"
    mkdir -p "$ws" "$WORK/logs"
    if [[ $rt == ours ]]; then prepare_ours "$bin" "$ws"; else prepare_ref "$bin" "$ws"; fi
    write_tasks "$ws/millrace-agents/tasks/queue" "$n"
    local mode=()
    [[ $rt == ours ]] && mode=(--mode default_codex)
    local fakelog=$WORK/logs/$tag.fake.log timef=$WORK/logs/$tag.time
    rm -f "$fakelog"
    local limit=$((12 * n)) load_before start status=ok disk
    disk=$(probe_disk "$ws")
    load_before=$(cut -d' ' -f1 /proc/loadavg)
    log "$rt N=$n: one '${bin##*/} run daemon --max-ticks 1' per stage (at most $limit)"
    start=$EPOCHREALTIME
    FAKE_CODEX_LOG=$fakelog /usr/bin/time -v -o "$timef" bash -c '
        shopt -s nullglob; bin=$1 ws=$2 n=$3 limit=$4; shift 4
        for ((i = 0; i < limit; i++)); do
            done_=("$ws"/millrace-agents/tasks/done/*.md)
            ((${#done_[@]} >= n)) && exit 0
            "$bin" run daemon --workspace "$ws" --max-ticks 1 "$@" >/dev/null || exit 1
        done
        exit 3' _ "$bin" "$ws" "$n" "$limit" "${mode[@]}" \
        >"$WORK/logs/$tag.out" 2>"$WORK/logs/$tag.err" </dev/null || status="failed:rc=$?"
    local wall
    wall=$(seconds_between "$start" "$EPOCHREALTIME")
    [[ $status == failed:rc=3 ]] && status="failed:not-done-after-$limit-invocations"
    count_evidence "$ws" "$n" "$fakelog"
    [[ $status == ok && $OK_MARKERS != yes ]] && status="failed:markers-$OK_MARKERS"
    FAKE_MS=nan FAKE_CPU_MS=nan
    ((STAGES > 0)) && time_fake_like "$rt" "$ws"
    row "$rt" "$n" maxticks 1 "$status" "$wall" "$STAGES" "$INVOCATIONS" "$DONE" "$BLOCKED" \
        "$FAKE_MS" "$FAKE_CPU_MS" "$(cpu_seconds "$timef")" \
        "$(time_field "$timef" 'Maximum resident set size')" 0 0 \
        "$load_before" "$(cut -d' ' -f1 /proc/loadavg)" "$disk" "$ws"
    log "$rt N=$n max-ticks: status=$status wall=${wall}s stages=$STAGES"
}

# ---------------------------------------------------------------- main

min_of() { "$PY" -c "import math, sys; v = [float(x) for x in sys.argv[1:] if x not in ('', 'nan')]; print(min(v) if v else 'nan')" "$@"; }

# Re-times the fake for every row already in results.tsv, from its workspace.
recalibrate() {
    build_tools
    local tmp=$TSV.new line rt ws
    head -1 "$TSV" >"$tmp"
    tail -n +2 "$TSV" | while IFS= read -r line; do
        IFS=$'\t' read -r -a f <<<"$line"
        rt=${f[0]} ws=${f[19]}
        if [[ -d $ws/millrace-agents/runs ]]; then
            time_fake_like "$rt" "$ws"
            # The fastest batch counts, across this and earlier timings.
            f[10]=$(min_of "${f[10]}" "$FAKE_MS") f[11]=$(min_of "${f[11]}" "$FAKE_CPU_MS")
        fi
        (IFS=$'\t' && echo "${f[*]}")
    done >>"$tmp"
    mv "$tmp" "$TSV"
    echo "(fake re-timed afterwards: run.sh recalibrate, $FAKE_BATCHES batches of $K, fastest)" \
        >>"$NOTES/commands.txt"
    "$PY" "$HERE/report.py" "$TSV" "$NOTES" "$NOTES/commands.txt" "$FAKE" "$RESULTS"
}

main() {
    if [[ ${1:-} == recalibrate ]]; then
        recalibrate
        return
    fi
    log "work directory: $WORK"
    ensure_time
    ensure_eatmydata
    ensure_strace
    machine_notes
    build_tools
    time_fake_variants
    local rt
    for rt in $RUNTIMES; do
        case $rt in
        ours) build_ours ;;
        rust-0.5.2) install_rust_ref ;;
        py-0.20.0) install_py_ref ;;
        *) log "unknown runtime $rt" && exit 2 ;;
        esac
    done
    [[ -s $TSV ]] || printf '%s\n' runtime n driver rep status wall_s stages invocations done blocked \
        fake_ms fake_cpu_ms cpu_s peak_rss_kb rss_early_kb rss_late_kb load_before \
        load_after durable_replace_ms workspace | paste -sd$'\t' >"$TSV"
    # Runtimes take turns within each repetition, so each sees similar load.
    local n rep reps
    for n in $NS; do
        reps=$REPEAT
        if ((n > 100)); then reps=$REPEAT_LARGE; fi
        for ((rep = 1; rep <= reps; rep++)); do
            for rt in $RUNTIMES; do
                if [[ -s $NOTES/$rt.bin ]]; then run_daemon_once "$rt" "$n" "$rep"; fi
            done
        done
    done
    for n in $NOSYNC_NS; do
        for rt in $RUNTIMES; do
            if [[ -s $NOTES/$rt.bin ]]; then run_daemon_once "$rt" "$n" 1 nosync; fi
        done
    done
    for n in $TMPFS_NS; do
        reps=$REPEAT
        if ((n > 100)); then reps=$REPEAT_LARGE; fi
        for ((rep = 1; rep <= reps; rep++)); do
            for rt in $RUNTIMES; do
                if [[ -s $NOTES/$rt.bin ]]; then run_daemon_once "$rt" "$n" "$rep" tmpfs; fi
            done
        done
    done
    for n in $SYSCALLS_N; do
        for rt in $RUNTIMES; do
            if [[ -s $NOTES/$rt.bin ]]; then run_daemon_once "$rt" "$n" 1 syscalls; fi
        done
    done
    for n in $MAXTICKS_NS; do
        for rt in $RUNTIMES; do
            if [[ -s $NOTES/$rt.bin ]]; then run_maxticks_once "$rt" "$n"; fi
        done
    done
    rmdir "$TMPFS_DIR/millrace-bench-$$" 2>/dev/null || true
    echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$NOTES/machine.txt"
    local cmdline="NS=\"$NS\" RUNTIMES=\"$RUNTIMES\" REPEAT=$REPEAT REPEAT_LARGE=$REPEAT_LARGE MAXTICKS_NS=\"$MAXTICKS_NS\" NOSYNC_NS=\"$NOSYNC_NS\" SYSCALLS_N=\"$SYSCALLS_N\" TMPFS_NS=\"$TMPFS_NS\" K=$K POLL=$POLL benches/runtimes/run.sh"
    echo "$cmdline" >>"$NOTES/commands.txt"
    "$PY" "$HERE/report.py" "$TSV" "$NOTES" "$NOTES/commands.txt" "$FAKE" "$RESULTS"
    log "results: $RESULTS (raw rows: $TSV)"
}

main "$@"
