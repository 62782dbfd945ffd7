#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser (atheris/libFuzzer), one target after another.
#   bash fuzz/run.sh                 every target, FUZZ_SECONDS each (default 120)
#   bash fuzz/run.sh cose card_text  only these
# Env: FUZZ_SECONDS, FUZZ_JOBS (targets run at once, default 1), FUZZ_OUT (logs,
# corpora and crash files; default a new temp dir), PYTHON (default .venv/bin/python).
# Exit status 1 if any target found a crash (an exception other than SecureMsgError).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
PY="${PYTHON:-$here/../.venv/bin/python}"
SECS="${FUZZ_SECONDS:-120}"
JOBS="${FUZZ_JOBS:-1}"
OUT="${FUZZ_OUT:-$(mktemp -d -t securemsg-fuzz.XXXXXX)}"
mkdir -p "$OUT"
if [ $# -gt 0 ]; then targets=("$@"); else
  targets=(); for f in "$here"/fuzz_*.py; do n="$(basename "$f" .py)"; targets+=("${n#fuzz_}"); done
fi
one() {
  local t="$1" corpus="$OUT/corpus-$1"
  mkdir -p "$corpus"
  PYTHONPATH="$here/../src:$here" "$PY" -c "
import harness, pathlib, sys
for i, s in enumerate(harness.seeds('$t')):
    pathlib.Path('$corpus', f'seed{i}').write_bytes(s)
"
  (cd "$OUT" && PYTHONPATH="$here/../src:$here" "$PY" "$here/fuzz_$t.py" \
      -max_total_time="$SECS" -print_final_stats=1 -rss_limit_mb=2048 \
      -artifact_prefix="$OUT/crash-$t-" "$corpus" >"$OUT/$t.log" 2>&1)
  local rc=$?
  local execs; execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$OUT/$t.log" | grep -o '[0-9]*$' | tail -1)"
  printf '%-18s executions=%-9s exit=%s%s\n' "$t" "${execs:-?}" "$rc" \
    "$( [ "$rc" -ne 0 ] && echo "  CRASH: see $OUT/$t.log" )"
  return $rc
}
export -f one; export OUT SECS PY here
status=0
printf '%s\n' "${targets[@]}" | xargs -P "$JOBS" -I{} bash -c 'one "$@"' _ {} | tee "$OUT/summary.txt" || status=1
grep -q CRASH "$OUT/summary.txt" && status=1
echo "fuzz: ${#targets[@]} targets x ${SECS}s; logs in $OUT"
exit $status
