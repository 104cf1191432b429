#!/usr/bin/env bash
# Compile time of a 200-worker tree written with `supervision_tree!` against
# the same tree written with the builder by hand.
#
# Two tiny crates in a temporary workspace depend on `supervisor` by path.
# Dependencies are built once to warm up; then each crate alone is cleaned
# (`cargo clean -p`) and rebuilt, alternating, REPS times. Prints the median
# times and their ratio, and writes benches/COMPILE-TIME.md, which the
# benchmark runner includes in RESULTS.md.
#
# usage: benches/compile-time.sh [REPS] [PROFILE]   (defaults: 5, dev)
set -euo pipefail

REPS="${1:-5}"
PROFILE="${2:-dev}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/supervisor-compile-time.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

SUPERVISORS=10
WORKERS_PER=20 # 10 x 20 = 200 workers

mkdir -p "$WORK/tree-macro/src" "$WORK/tree-hand/src"
cat > "$WORK/Cargo.toml" <<TOML
[workspace]
resolver = "3"
members = ["tree-macro", "tree-hand"]
TOML
for c in tree-macro tree-hand; do
  cat > "$WORK/$c/Cargo.toml" <<TOML
[package]
name = "$c"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
supervisor = { path = "$ROOT/supervisor" }
tokio = { version = "1", default-features = false }
TOML
done

# The worker types are the same in both crates.
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

{
  common
  echo
  echo "pub fn tree() -> supervisor::SupervisorSpec {"
  echo "    supervisor::supervision_tree! {"
  echo "        supervisor app(strategy = one_for_one, max_restarts = 3, within = 5s) {"
  for s in $(seq 0 $((SUPERVISORS - 1))); do
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
} > "$WORK/tree-macro/src/lib.rs"

{
  common
  echo "use supervisor::{ChildSpec, Restart, Shutdown, Strategy, SupervisorSpec};"
  echo
  echo "pub fn tree() -> SupervisorSpec {"
  echo "    SupervisorSpec::new(\"app\")"
  echo "        .strategy(Strategy::OneForOne)"
  echo "        .max_restarts(3)"
  echo "        .within(Duration::from_secs(5))"
  for s in $(seq 0 $((SUPERVISORS - 1))); do
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
} > "$WORK/tree-hand/src/lib.rs"

# tokio's select!/time are needed by Flaky.
sed -i 's/tokio = { version = "1", default-features = false }/tokio = { version = "1", default-features = false, features = ["macros", "time"] }/' \
  "$WORK/tree-macro/Cargo.toml" "$WORK/tree-hand/Cargo.toml"

cd "$WORK"
export CARGO_TARGET_DIR="$WORK/target"
echo "warming up dependencies (profile $PROFILE) in $WORK ..." >&2
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

declare -a MACRO HAND
for r in $(seq 1 "$REPS"); do
  # Alternate which goes first, so that neither always runs on a warmer cache.
  if (( r % 2 )); then
    MACRO+=("$(build_one tree-macro)"); HAND+=("$(build_one tree-hand)")
  else
    HAND+=("$(build_one tree-hand)"); MACRO+=("$(build_one tree-macro)")
  fi
  echo "rep $r: macro ${MACRO[-1]} s, hand ${HAND[-1]} s" >&2
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
M=$(median "${MACRO[@]}")
H=$(median "${HAND[@]}")
RATIO=$(echo "$M / $H" | bc -l)

OUT="$HERE/COMPILE-TIME.md"
{
  echo "## Compile time: 200-worker tree, \`supervision_tree!\` vs builder by hand"
  echo
  echo "- generated by \`benches/compile-time.sh $REPS $PROFILE\` on $(date -u '+%Y-%m-%d %H:%M UTC'): 10 nested supervisors x 20 workers, mixed options;"
  echo "  each crate cleaned with \`cargo clean -p\` and rebuilt alone (dependencies warm), alternating, median of $REPS"
  echo
  echo "| crate | median build time | all runs (s) |"
  echo "|---|---|---|"
  printf '| macro (`supervision_tree!`) | %.2f s | %s |\n' "$M" "$(printf '%.2f ' "${MACRO[@]}")"
  printf '| hand-written builder | %.2f s | %s |\n' "$H" "$(printf '%.2f ' "${HAND[@]}")"
  echo
  printf 'ratio: %.3f\n' "$RATIO"
} > "$OUT"
cat "$OUT"
