#!/usr/bin/env bash
# Compile time of trees written with `supervision_tree!` against the same
# trees written with the builder by hand, at 200 and at 2,000 workers.
#
# For each size, two tiny crates in a temporary workspace depend on
# `supervisor` by path: nested supervisors of 20 workers each, with mixed
# options. Dependencies are built once to warm up (in target/compile-time,
# kept between runs so that only the first run pays for them); then each
# crate alone is cleaned (`cargo clean -p`) and rebuilt, alternating, REPS
# times. Prints a Markdown section with the medians and their ratios, and
# one line `ratio at N workers: R` per size; writes the section to $OUT
# when it is set. The benchmark runner calls this after its scenarios and
# puts the section in RESULTS.md. CI does not run it (minutes on 2 cores).
#
# usage: benches/compile-time.sh [REPS] [PROFILE]   (defaults: 5, dev)
set -euo pipefail

REPS="${1:-5}"
PROFILE="${2:-dev}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/supervisor-compile-time.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

WORKERS_PER=20
SIZES=(200 2000)

members=""
for n in "${SIZES[@]}"; do members="$members\"tree-macro-$n\", \"tree-hand-$n\", "; done
cat > "$WORK/Cargo.toml" <<TOML
[workspace]
resolver = "3"
members = [$members]
TOML
# The project's own versions of tokio and the rest: nothing to resolve.
cp "$ROOT/Cargo.lock" "$WORK/Cargo.lock"

# The worker types are the same in every crate.
common() {
  cat <<'RS'
// `async fn run` returning a concrete Result refines the trait's
// `impl WorkerResult`; rustc warns about that on public types.
#![allow(refining_impl_trait)]
use std::time::Duration;
use supervisor::{Context, Worker};

#[derive(Clone)]
pub struct Idle(pub u32);

impl Worker for Idle {
    async fn run(self, ctx: Context) {
        ctx.cancelled().await;
    }
}

#[derive(Clone)]
pub struct Flaky {
    pub every: Duration,
}

impl Worker for Flaky {
    async fn run(self, ctx: Context) -> Result<(), std::io::Error> {
        tokio::select! {
            _ = ctx.cancelled() => Ok(()),
            _ = tokio::time::sleep(self.every) => Err(std::io::Error::other("flaky")),
        }
    }
}
RS
}

# Options of worker j, in both spellings (macro; builder).
opts_macro() {
  case $(( $1 % 4 )) in
    0) echo "(restart = permanent, shutdown = 2s)" ;;
    1) echo "(restart = transient, backoff = 10ms..1s)" ;;
    2) echo "(shutdown = brutal_kill, restart = temporary)" ;;
    3) echo "" ;;
  esac
}
opts_hand() {
  case $(( $1 % 4 )) in
    0) echo ".restart(Restart::Permanent).shutdown(Duration::from_secs(2))" ;;
    1) echo ".restart(Restart::Transient).backoff(Duration::from_millis(10)..Duration::from_secs(1))" ;;
    2) echo ".shutdown(Shutdown::BrutalKill).restart(Restart::Temporary)" ;;
    3) echo "" ;;
  esac
}
expr_of() {
  if (( $1 % 2 == 0 )); then echo "Idle($1)"; else echo "Flaky { every: Duration::from_millis($(( 100 + $1 ))) }"; fi
}

manifest() {
  cat <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
supervisor = { path = "$ROOT/supervisor" }
# select! and time for Flaky.
tokio = { version = "1", default-features = false, features = ["macros", "time"] }
TOML
}

for n in "${SIZES[@]}"; do
  supervisors=$(( n / WORKERS_PER ))
  mkdir -p "$WORK/tree-macro-$n/src" "$WORK/tree-hand-$n/src"
  manifest "tree-macro-$n" > "$WORK/tree-macro-$n/Cargo.toml"
  manifest "tree-hand-$n" > "$WORK/tree-hand-$n/Cargo.toml"
  {
    common
    echo
    echo "pub fn tree() -> supervisor::SupervisorSpec {"
    echo "    supervisor::supervision_tree! {"
    echo "        supervisor app(strategy = one_for_one, max_restarts = 3, within = 5s) {"
    for s in $(seq 0 $((supervisors - 1))); do
      echo "            supervisor s$s(strategy = rest_for_one, max_restarts = 10, within = 1s) {"
      for w in $(seq 0 $((WORKERS_PER - 1))); do
        j=$(( s * WORKERS_PER + w ))
        echo "                worker w$j$(opts_macro $j) = $(expr_of $j);"
      done
      echo "            }"
    done
    echo "        }"
    echo "    }"
    echo "}"
  } > "$WORK/tree-macro-$n/src/lib.rs"
  {
    common
    echo "use supervisor::{ChildSpec, Restart, Shutdown, Strategy, SupervisorSpec};"
    echo
    echo "pub fn tree() -> SupervisorSpec {"
    echo "    SupervisorSpec::new(\"app\")"
    echo "        .strategy(Strategy::OneForOne)"
    echo "        .max_restarts(3)"
    echo "        .within(Duration::from_secs(5))"
    for s in $(seq 0 $((supervisors - 1))); do
      echo "        .supervisor("
      echo "            SupervisorSpec::new(\"s$s\")"
      echo "                .strategy(Strategy::RestForOne)"
      echo "                .max_restarts(10)"
      echo "                .within(Duration::from_secs(1))"
      for w in $(seq 0 $((WORKERS_PER - 1))); do
        j=$(( s * WORKERS_PER + w ))
        echo "                .child(ChildSpec::worker(\"w$j\", $(expr_of $j))$(opts_hand $j))"
      done
      echo "        )"
    done
    echo "}"
  } > "$WORK/tree-hand-$n/src/lib.rs"
done

cd "$WORK"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/compile-time}"
echo "warming up dependencies (profile $PROFILE) in $CARGO_TARGET_DIR ..." >&2
if ! cargo build --profile "$PROFILE" --workspace -q 2> "$WORK/warm.log"; then
  echo "the generated crates do not build:" >&2
  grep -E "^(error|warning)" -A6 "$WORK/warm.log" | head -40 >&2
  exit 1
fi

now() { date +%s.%N; }
build_one() {
  cargo clean -p "$1" --profile "$PROFILE" -q 2>/dev/null
  local t0 t1
  t0=$(now)
  cargo build -p "$1" --profile "$PROFILE" -q
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

TABLE=""
RATIOS=""
for n in "${SIZES[@]}"; do
  MACRO=()
  HAND=()
  for r in $(seq 1 "$REPS"); do
    # Alternate which goes first, so that neither always runs on a warmer cache.
    if (( r % 2 )); then
      MACRO+=("$(build_one "tree-macro-$n")"); HAND+=("$(build_one "tree-hand-$n")")
    else
      HAND+=("$(build_one "tree-hand-$n")"); MACRO+=("$(build_one "tree-macro-$n")")
    fi
    echo "$n workers, rep $r: macro ${MACRO[-1]} s, builder ${HAND[-1]} s" >&2
  done
  M=$(median "${MACRO[@]}")
  H=$(median "${HAND[@]}")
  RATIO=$(echo "$M / $H" | bc -l)
  TABLE="$TABLE$(printf '| %s (%s supervisors x %s) | %.2f s | %.2f s | %.3f | %s| %s|' \
    "$n" "$(( n / WORKERS_PER ))" "$WORKERS_PER" "$M" "$H" "$RATIO" \
    "$(printf '%.2f ' "${MACRO[@]}")" "$(printf '%.2f ' "${HAND[@]}")")"$'\n'
  RATIOS="$RATIOS$(printf 'ratio at %s workers: %.3f' "$n" "$RATIO")"$'\n'
done

SECTION="$({
  echo "## Compile time: \`supervision_tree!\` against the builder by hand"
  echo
  echo "- command: \`benches/compile-time.sh $REPS $PROFILE\`, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- method: nested supervisors of $WORKERS_PER workers with mixed options, the same tree in both spellings;"
  echo "  each crate cleaned with \`cargo clean -p\` and rebuilt alone (dependencies warm), alternating, median of $REPS"
  echo
  echo "| workers | macro | builder | ratio | macro runs (s) | builder runs (s) |"
  echo "|---|---|---|---|---|---|"
  printf '%s' "$TABLE"
  echo
  printf '%s' "$RATIOS"
})"
if [[ -n "${OUT:-}" ]]; then printf '%s\n' "$SECTION" > "$OUT"; fi
printf '%s\n' "$SECTION"
