#!/usr/bin/env bash
# Regenerates results/bench/: whole-process timings and peak memory of
# `capsim run scenarios/baseline.toml` at 10^4, 10^5, 10^6 paths with 1 and 2
# threads (best of 3), then the criterion benches. Run from the repo root:
#   bash results/bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet
out=results/bench/whole_process.csv
echo "paths,threads,wall_seconds,peak_rss_kb,path_periods_per_second" > "$out"
periods=$(grep -E '^periods *=' scenarios/baseline.toml | grep -oE '[0-9]+' | head -1)
tmp=$(mktemp -d)
for paths in 10000 100000 1000000; do
  for threads in 1 2; do
    best=""; best_rss=0
    for _ in 1 2 3; do
      line=$( { /usr/bin/time -f "%e %M" ./target/release/capsim run scenarios/baseline.toml \
                --paths "$paths" --threads "$threads" --out "$tmp" --quiet; } 2>&1 | tail -1)
      wall=${line% *}; rss=${line#* }
      if [ -z "$best" ] || awk "BEGIN{exit !($wall < $best)}"; then best=$wall; best_rss=$rss; fi
    done
    rate=$(awk "BEGIN{printf \"%.0f\", $paths * $periods / $best}")
    echo "$paths,$threads,$best,$best_rss,$rate" | tee -a "$out"
  done
done
for paths in 20000 800000; do
  line=$( { /usr/bin/time -f "%e %M" ./target/release/capsim run scenarios/baseline.toml \
            --paths "$paths" --out "$tmp" --quiet; } 2>&1 | tail -1)
  echo "memory,$paths,${line#* }" | tee -a results/bench/memory.csv.tmp
done
{ echo "paths,peak_rss_kb"; sed 's/^memory,//' results/bench/memory.csv.tmp; } > results/bench/memory.csv
rm -f results/bench/memory.csv.tmp
rm -rf "$tmp"
cargo bench --bench kernel -- --warm-up-time 2 --measurement-time 5 2>&1 | tee results/bench/criterion.txt
