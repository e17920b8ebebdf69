#!/usr/bin/env bash
# Runs every fuzz target (or those named after N) for N executions, one after the other with
# one worker each, and prints per target: executions done, exec/s, seconds taken, peak memory
# and the outcome (exit status; a crash leaves its input under $FUZZ_WORK/artifacts/<target>/).
#
#   fuzz/run.sh 1000000                 # every target, a million executions each
#   fuzz/run.sh 100000 token logout     # two targets
#   FUZZ_SANITIZER=none fuzz/run.sh 1000000   # without AddressSanitizer (faster)
#
# The optional whole-flow targets (authorize_flow, token_flow: through the SQLite store, slow)
# run only when named.
#
# New inputs found go to $FUZZ_WORK/corpus/<target> (default FUZZ_WORK=/tmp/idp-fuzz), never
# into the committed seeds. Needs the nightly toolchain and cargo-fuzz (fuzz/README.md).
set -uo pipefail

runs="${1:?usage: fuzz/run.sh N [target...]}"
shift
here="$(cd "$(dirname "$0")" && pwd)"
work="${FUZZ_WORK:-/tmp/idp-fuzz}"
all=(authorize token client_assertion request_object redirect_uri logout config)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all[@]}"); fi

dict_of() {
    case "$1" in
        authorize | authorize_flow | logout) echo oauth ;;
        token | token_flow) echo token ;;
        client_assertion | request_object) echo jwt ;;
        *) echo "$1" ;;
    esac
}

# FUZZ_SANITIZER=none builds without AddressSanitizer (still coverage-guided, several times
# faster); the default is cargo-fuzz's (address).
sanitizer=()
if [ -n "${FUZZ_SANITIZER:-}" ]; then sanitizer=(-s "$FUZZ_SANITIZER"); fi

cd "$here" || exit 2
cargo +nightly fuzz build "${sanitizer[@]}" >"$work.build.log" 2>&1 || { echo "build failed: see $work.build.log"; exit 2; }

printf '%-18s %12s %10s %8s %9s  %s\n' target executions exec/s seconds rss_mb outcome
status=0
for t in "${targets[@]}"; do
    mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
    log="$work/$t.log"
    start=$(date +%s)
    # The optional whole-flow targets (authorize_flow, token_flow) share their parser's seeds.
    cargo +nightly fuzz run "${sanitizer[@]}" "$t" "$work/corpus/$t" "seeds/${t%_flow}" -- \
        -runs="$runs" -dict="dict/$(dict_of "$t").dict" -print_final_stats=1 -rss_limit_mb=4096 \
        -artifact_prefix="$work/artifacts/$t/" >"$log" 2>&1
    rc=$?
    seconds=$(($(date +%s) - start))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
    # A slow-unit file is only a report (an input that took over 10 s; the first execution also
    # builds the fixture, which can take that long on a loaded machine): not counted as a crash.
    crashes=$(find "$work/artifacts/$t" -type f ! -name 'slow-unit-*' | wc -l)
    slow=$(find "$work/artifacts/$t" -type f -name 'slow-unit-*' | wc -l)
    if [ "$rc" -eq 0 ] && [ "$crashes" -eq 0 ]; then
        outcome="ok"
        if [ "$slow" -gt 0 ]; then outcome="ok ($slow slow unit(s) in $work/artifacts/$t)"; fi
    else
        outcome="FAILED (exit $rc, $crashes artifact(s) in $work/artifacts/$t; log $log)"
        status=1
    fi
    printf '%-18s %12s %10s %8s %9s  %s\n' "$t" "${execs:-?}" "${speed:-?}" "$seconds" "${rss:-?}" "$outcome"
done
exit $status
