#!/usr/bin/env bash
# Regenerates results/bench/ (about 10 minutes on the 2-vCPU machine):
#   whole_process.csv  `capsim run scenarios/baseline.toml` at 10^4, 10^5,
#                      10^6 paths with 1 and 2 threads: best of 9, 5 and 3
#                      rounds, the 1- and 2-thread runs interleaved so that
#                      drifts in the machine's speed hit both alike
#   whole_rounds.csv   every round of those: the 1- and 2-thread runs, back
#                      to back (the median of the rounds' speed-ups)
#   two_processes.csv  control: two independent 1-thread processes side by
#                      side, each with half of 10^6 paths (what the machine
#                      itself gives two cores)
#   paths_csv.csv      the same run writing paths.csv too (every metric of
#                      every path, formatted on the calling thread while the
#                      workers simulate): 10^5 and 10^6 paths, 1 and 2
#                      threads, best of 5 and 3 rounds, with and without
#                      paths.csv interleaved; and the instructions per
#                      paths.csv row (paths_csv_instructions.csv;
#                      callgrind, 20,000 minus 10,000 paths)
#   runs.csv           commands of many runs: `sweep` (100 points of 1,000
#                      paths, 20 of 10^4) and `sensitivity` (73 runs of
#                      1,000 and of 10^4 paths) of the baseline, 1 and 2
#                      threads interleaved, best of 3 rounds
#   numpy.csv          capsim and benches/numpy_reference.py (if numpy is
#                      installed), one thread, 100,000 paths, CPU seconds
#   memory.csv         peak RSS at 20,000 and 800,000 paths (3 runs each)
#   instructions.csv   callgrind instruction counts per path-period of the
#                      parts (examples/parts.rs) and of the whole run
#   criterion.csv      medians of `cargo bench --bench kernel`
#   commits.csv        the commit each of the above was measured at
#   tables.md          all of the above as markdown tables, with the machine
# Run from anywhere: bash results/bench/run.sh
# (`--whole`: only the whole-process timings and the two-process control,
# then the tables; `--paths-csv`: only paths_csv.csv, then the tables;
# `--criterion`: only the criterion benches, then the tables; `--runs`:
# only runs.csv, then the tables; `--memory`:
# only the peak memory runs, then the tables; `--numpy`: only the NumPy
# comparison, then the tables;
# `--instructions`: only the callgrind counts, then the tables; `--tables`:
# only rewrites tables.md from the CSVs; `--ab OTHER [LABEL]`: ab.csv, this
# build against another capsim binary OTHER (e.g. one built from an older
# commit, named LABEL), 10^6 baseline paths on 1 and 2 threads, four
# rounds, the two binaries alternating (which runs first swaps every
# round), then the tables.)
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=results/bench
periods=$(grep -E '^periods *=' scenarios/baseline.toml | grep -oE '[0-9]+' | head -1)
# This machine in a few words: CPUs, model, clock.
machine() {
  echo "$(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//; s/,//g') at $(grep -m1 'cpu MHz' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' | cut -d. -f1) MHz"
}
mode=${1:-all}
case "$mode" in
  all | --whole | --paths-csv | --runs | --criterion | --memory | --numpy | --instructions | --tables) ;;
  --ab)
    other=${2:-}
    other_label=${3:-$other}
    if [ -z "$other" ] || [ ! -x "$other" ]; then
      echo "usage: run.sh --ab OTHER_CAPSIM_BINARY [LABEL] (not an executable: '$other')" >&2
      exit 2
    fi ;;
  *) echo "usage: run.sh [--whole|--paths-csv|--runs|--criterion|--memory|--numpy|--instructions|--tables|--ab OTHER [LABEL]]" >&2; exit 2 ;;
esac
# Whether this run makes the part named by a mode flag.
want() { [ "$mode" = all ] || [ "$mode" = "$1" ]; }
if [ "$mode" != --tables ]; then
cargo build --release --quiet
bin=./target/release/capsim
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Which commit (and date) each CSV was measured at: commits.csv.
# The machine too: the project's VM has not always been the same CPU.
stamp() {
  [ -f "$dir/commits.csv" ] || echo "file,commit,date,machine" > "$dir/commits.csv"
  grep -v "^$1," "$dir/commits.csv" > "$tmp/commits" || true
  echo "$1,$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src benches examples Cargo.toml Cargo.lock || echo -dirty),$(date -u +%Y-%m-%d),$(machine)" >> "$tmp/commits"
  mv "$tmp/commits" "$dir/commits.csv"
}

# One timed run: prints "wall_seconds peak_rss_kb". The wall time is bash's
# own timer around the run, to the millisecond: /usr/bin/time's %e has only
# 10 ms steps, too coarse for the 10^4-path runs, and reading the clock with
# `date` before and after (as this script did before 2026-11-29) added 6-13
# ms of its own processes to every run here. Its files go in the run's
# output folder, so two runs side by side keep theirs apart.
timed() {
  local TIMEFORMAT=%3R
  if ! { time /usr/bin/time -f "%M" -o "$1/timed.rss" "${run_bin:-$bin}" run scenarios/baseline.toml --out "$1" --quiet "${@:2}"; } 2> "$1/timed.wall"; then
    cat "$1/timed.wall" >&2
    exit 1
  fi
  echo "$(tail -1 "$1/timed.wall") $(tail -1 "$1/timed.rss")"
}

if want --whole; then
echo "paths,threads,wall_seconds,peak_rss_kb,path_periods_per_second" > "$dir/whole_process.csv"
stamp whole_process.csv
echo "paths,round,one_thread_seconds,two_threads_seconds" > "$dir/whole_rounds.csv"
stamp whole_rounds.csv
for paths in 10000 100000 1000000; do
  declare -A best=() rss=() wall_of=()
  round=0
  # Best of 9, 5 and 3 rounds: a short run is more easily caught whole by
  # one of the machine's slow spells.
  case $paths in 10000) rounds=9 ;; 100000) rounds=5 ;; *) rounds=3 ;; esac
  for _ in $(seq "$rounds"); do
    round=$((round + 1))
    for threads in 1 2; do
      line=$(timed "$tmp" --paths "$paths" --threads "$threads")
      wall=${line% *}
      wall_of[$threads]=$wall
      if [ -z "${best[$threads]:-}" ] || awk "BEGIN{exit !($wall < ${best[$threads]})}"; then
        best[$threads]=$wall; rss[$threads]=${line#* }
      fi
    done
    # Every round's pair, run back to back (whole_rounds.csv): the
    # median of their ratios is less at the mercy of one lucky run than
    # the ratio of the bests.
    echo "$paths,$round,${wall_of[1]},${wall_of[2]}" >> "$dir/whole_rounds.csv"
  done
  for threads in 1 2; do
    rate=$(awk "BEGIN{printf \"%.0f\", $paths * $periods / ${best[$threads]}}")
    echo "$paths,$threads,${best[$threads]},${rss[$threads]},$rate" | tee -a "$dir/whole_process.csv"
  done
  unset best rss wall_of
done

echo "run,alone_seconds,side_by_side_a_seconds,side_by_side_b_seconds" > "$dir/two_processes.csv"
stamp two_processes.csv
for run in 1 2 3; do
  alone=$(timed "$tmp" --paths 500000 --threads 1); alone=${alone% *}
  mkdir -p "$tmp/x" "$tmp/y"
  timed "$tmp/x" --paths 500000 --threads 1 > "$tmp/a" & timed "$tmp/y" --paths 500000 --threads 1 > "$tmp/b"; wait
  a=$(cut -d' ' -f1 "$tmp/a"); b=$(cut -d' ' -f1 "$tmp/b")
  echo "$run,$alone,$a,$b" | tee -a "$dir/two_processes.csv"
done
fi

# Commands of many runs (a sweep's points, a tornado's runs): where that
# finishes sooner, the threads take whole runs side by side.
if want --runs; then
  echo "command,runs,paths_per_run,threads,wall_seconds" > "$dir/runs.csv"
  stamp runs.csv
  declare -A cmds=(
    [sweep,100,1000]="sweep scenarios/baseline.toml --set workload.api.growth=0:1:10 --set agi.hazard=0:0.5:10 --paths 1000"
    [sweep,20,10000]="sweep scenarios/baseline.toml --set workload.api.growth=0:1:4 --set agi.hazard=0:0.5:5 --paths 10000"
    [sensitivity,73,1000]="sensitivity scenarios/baseline.toml --paths 1000"
    [sensitivity,73,10000]="sensitivity scenarios/baseline.toml --paths 10000"
  )
  for key in sweep,100,1000 sweep,20,10000 sensitivity,73,1000 sensitivity,73,10000; do
    declare -A best=()
    for _ in 1 2 3; do
      for threads in 1 2; do
        t0=$(date +%s.%N)
        # shellcheck disable=SC2086
        "$bin" ${cmds[$key]} --threads "$threads" --out "$tmp" --quiet
        t1=$(date +%s.%N)
        wall=$(awk "BEGIN{printf \"%.3f\", $t1 - $t0}")
        if [ -z "${best[$threads]:-}" ] || awk "BEGIN{exit !($wall < ${best[$threads]})}"; then
          best[$threads]=$wall
        fi
      done
    done
    for threads in 1 2; do
      echo "$key,$threads,${best[$threads]}" | tee -a "$dir/runs.csv"
    done
    unset best
  done
fi

# Writing paths.csv: what it adds to a run's wall time, and its cost in
# instructions per row (one row: the path's number and 30 metrics on the
# baseline).
if want --paths-csv; then
  echo "paths,threads,wall_seconds_without,wall_seconds_with,with_over_without" > "$dir/paths_csv.csv"
  stamp paths_csv.csv
  for paths in 100000 1000000; do
    case $paths in 100000) rounds=5 ;; *) rounds=3 ;; esac
    for threads in 1 2; do
      without=""; with=""
      for _ in $(seq "$rounds"); do
        w=$(timed "$tmp" --paths "$paths" --threads "$threads"); w=${w% *}
        p=$(timed "$tmp" --paths "$paths" --threads "$threads" --paths-csv); p=${p% *}
        rm -rf "${tmp:?}"/*
        if [ -z "$without" ] || awk "BEGIN{exit !($w < $without)}"; then without=$w; fi
        if [ -z "$with" ] || awk "BEGIN{exit !($p < $with)}"; then with=$p; fi
      done
      echo "$paths,$threads,$without,$with,$(awk "BEGIN{printf \"%.2f\", $with / $without}")" | tee -a "$dir/paths_csv.csv"
    done
  done
  if command -v valgrind > /dev/null; then
    vcount() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 | grep -oE 'Collected : [0-9]+' | grep -oE '[0-9]+'; }
    per_row=()
    for extra in "" --paths-csv; do
      a=$(vcount "$bin" run scenarios/baseline.toml --paths 10000 --threads 1 --out "$tmp" --quiet $extra)
      b=$(vcount "$bin" run scenarios/baseline.toml --paths 20000 --threads 1 --out "$tmp" --quiet $extra)
      per_row+=($(( (b - a) / 10000 )))
    done
    echo "paths_csv,instructions_per_path" > "$dir/paths_csv_instructions.csv"
    stamp paths_csv_instructions.csv
    echo "without,${per_row[0]}" >> "$dir/paths_csv_instructions.csv"
    echo "with,${per_row[1]}" >> "$dir/paths_csv_instructions.csv"
  fi
fi

# This build against another binary, alternating (`--ab` only): the
# machine's drifts hit both alike, so the ratios mean more than the times.
# Four rounds per thread count, the order swapped every round (other
# first in rounds 1 and 4, this build first in rounds 2 and 3), so that a
# drift over the run favours neither binary.
if [ "$mode" = --ab ]; then
  echo "paths,threads,round,first,other,other_seconds,this_seconds,this_over_other" > "$dir/ab.csv"
  stamp ab.csv
  for threads in 1 2; do
    for round in 1 2 3 4; do
      if [ "$round" = 1 ] || [ "$round" = 4 ]; then
        first=other
        o=$(run_bin=$other timed "$tmp" --paths 1000000 --threads "$threads"); o=${o% *}
        t=$(timed "$tmp" --paths 1000000 --threads "$threads"); t=${t% *}
      else
        first=this
        t=$(timed "$tmp" --paths 1000000 --threads "$threads"); t=${t% *}
        o=$(run_bin=$other timed "$tmp" --paths 1000000 --threads "$threads"); o=${o% *}
      fi
      echo "1000000,$threads,$round,$first,$other_label,$o,$t,$(awk "BEGIN{printf \"%.3f\", $t / $o}")" | tee -a "$dir/ab.csv"
    done
  done
fi

# The NumPy reference (benches/numpy_reference.py), when numpy is installed:
# CPU seconds of one thread for the same scenario and paths, side by side.
if want --numpy && python3 -c "import numpy" 2> /dev/null; then
  echo "implementation,paths,cpu_seconds,path_periods_per_second" > "$dir/numpy.csv"
  stamp numpy.csv
  for _ in 1 2 3; do
    np_s=$( { python3 benches/numpy_reference.py scenarios/baseline.toml 100000 > /dev/null; } 2>&1 \
      | grep -oE 'in [0-9.]+ s CPU' | grep -oE '[0-9.]+')
    cs=$( { /usr/bin/time -f "%U %S" "$bin" run scenarios/baseline.toml --paths 100000 --threads 1 \
      --out "$tmp" --quiet; } 2>&1 | tail -1 | awk '{printf "%.2f", $1 + $2}')
    echo "numpy,100000,$np_s,$(awk "BEGIN{printf \"%.0f\", 100000 * $periods / $np_s}")" | tee -a "$dir/numpy.csv"
    echo "capsim,100000,$cs,$(awk "BEGIN{printf \"%.0f\", 100000 * $periods / $cs}")" | tee -a "$dir/numpy.csv"
  done
  # The independent check: per-path means of capsim and of the reference
  # (20,000 paths each, different random numbers) on every shipped scenario
  # and the all-rules test scenario, as the largest gap in combined standard
  # errors.
  echo "scenario,metrics,largest_gap_standard_errors,metric" > "$dir/numpy_check.csv"
  stamp numpy_check.csv
  for sc in scenarios/*.toml tests/data/golden.toml; do
    rm -rf "$tmp/check"
    "$bin" run "$sc" --paths 20000 --out "$tmp/check" --quiet
    if check=$(python3 benches/numpy_reference.py "$sc" 20000 "$tmp"/check/*/summary.csv 2>&1 > /dev/null); then
      n=$(grep -c 'standard errors$' <<< "$check" || true)
      gap=$(grep 'largest difference' <<< "$check" | grep -oE '[0-9.]+ standard' | grep -oE '[0-9.]+')
      metric=$(grep 'largest difference' <<< "$check" | grep -oE '\([^)]*\)' | tr -d '()')
      echo "$(basename "$sc" .toml),$n,$gap,$metric" | tee -a "$dir/numpy_check.csv"
    else
      echo "numpy_reference.py failed on $sc: $check" >&2
    fi
  done
fi

# Peak memory: three runs at each size (peak RSS moves by a few hundred KiB
# from run to run with thread timing); the median is the figure.
if want --memory; then
echo "paths,run_1_kb,run_2_kb,run_3_kb,median_peak_rss_kb" > "$dir/memory.csv"
stamp memory.csv
for paths in 20000 800000; do
  kb=()
  for _ in 1 2 3; do line=$(timed "$tmp" --paths "$paths"); kb+=("${line#* }"); done
  med=$(printf '%s\n' "${kb[@]}" | sort -n | sed -n 2p)
  echo "$paths,${kb[0]},${kb[1]},${kb[2]},$med" | tee -a "$dir/memory.csv"
done

fi

# Instruction counts (callgrind: repeatable whatever the machine is doing),
# per path-period, as the difference between 4,096 and 2,048 paths (which
# cancels loading, compiling and other fixed costs).
if want --instructions && command -v valgrind > /dev/null; then
  cargo build --release --quiet --example parts
  count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 | grep -oE 'Collected : [0-9]+' | grep -oE '[0-9]+'; }
  echo "scenario,part,instructions_per_path_period" > "$dir/instructions.csv"
  stamp instructions.csv
  for sc in scenarios/baseline.toml tests/data/golden.toml; do
    name=$(basename "$sc" .toml)
    np=$(grep -E '^periods *=' "$sc" | grep -oE '[0-9]+' | head -1)
    for part in kernel rng_floor rng_exp_floor stats; do
      a=$(count target/release/examples/parts "$part" "$sc" 2048)
      b=$(count target/release/examples/parts "$part" "$sc" 4096)
      echo "$name,$part,$(( (b - a) / (2048 * np) ))" | tee -a "$dir/instructions.csv"
    done
    a=$(count "$bin" run "$sc" --paths 8192 --threads 1 --out "$tmp" --quiet)
    b=$(count "$bin" run "$sc" --paths 16384 --threads 1 --out "$tmp" --quiet)
    echo "$name,engine,$(( (b - a) / (8192 * np) ))" | tee -a "$dir/instructions.csv"
  done
fi

if want --criterion; then
rm -rf target/criterion
cargo bench --bench kernel -- --warm-up-time 2 --measurement-time 5 2>&1 | tee "$dir/criterion.txt"

# Criterion medians (ns per iteration) from its estimates.
echo "group,bench,median_ns,path_periods_per_second" > "$dir/criterion.csv"
stamp criterion.csv
golden_periods=$(grep -E '^periods *=' tests/data/golden.toml | grep -oE '[0-9]+' | head -1)
elements() { # path-periods per iteration, as benches/kernel.rs declares them
  case "$1" in
    baseline) echo $((2048 * periods)) ;;
    baseline_engine) echo $((16384 * periods)) ;;
    all_rules) echo $((2048 * golden_periods)) ;;
    all_rules_engine) echo $((16384 * golden_periods)) ;;
    *) echo 1 ;;
  esac
}
for f in target/criterion/*/*/new/estimates.json; do
  group=$(echo "$f" | cut -d/ -f3); bench=$(echo "$f" | cut -d/ -f4)
  median=$(grep -oE '"median":\{"confidence_interval":\{[^}]*\},"point_estimate":[0-9.eE+-]+' "$f" | grep -oE '[0-9.eE+-]+$')
  rate=$(awk "BEGIN{printf \"%.0f\", $(elements "$group") / ($median * 1e-9)}")
  echo "$group,$bench,$median,$rate" >> "$dir/criterion.csv"
done
fi
fi

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mhz=$(grep -m1 'cpu MHz' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
{
  echo "# Benchmark tables"
  echo
  echo "Tables generated $(date -u +%Y-%m-%d) by \`bash results/bench/run.sh\` on: $(nproc) x $cpu"
  echo "($mhz MHz), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr),"
  echo "$(rustc --version | cut -d' ' -f1-2), capsim $(grep -m1 '^version' Cargo.toml | cut -d'"' -f2)."
  if [ -f "$dir/commits.csv" ]; then
    echo
    echo "Measured at (commit, date, machine):"
    echo
    tail -n +2 "$dir/commits.csv" | awk -F, '{printf "- %s: %s, %s, %s\n", $1, $2, $3, $4}'
  fi
  echo
  echo "## Whole process: \`capsim run scenarios/baseline.toml\` ($periods periods), best of 9 (10^4 paths), 5 (10^5) and 3 (10^6) rounds"
  echo
  echo "| paths | threads | wall s | peak RSS KiB | path-periods/s |"
  echo "|---:|---:|---:|---:|---:|"
  tail -n +2 "$dir/whole_process.csv" | awk -F, '{printf "| %d | %d | %s | %d | %.2f M |\n", $1, $2, $3, $4, $5/1e6}'
  echo
  echo "2-thread speed-up (1-thread wall / 2-thread wall):"
  awk -F, 'NR>1 && $2==1{one[$1]=$3; order[++n]=$1} NR>1 && $2==2{two[$1]=$3}
    END{for (i=1;i<=n;i++) printf "%s%d paths %.2fx", (i>1?", ":""), order[i], one[order[i]]/two[order[i]]; print ""}' "$dir/whole_process.csv"
  if [ -f "$dir/whole_rounds.csv" ]; then
    echo
    echo "Each round's 1- and 2-thread runs back to back (\`whole_rounds.csv\`): the rounds' speed-ups, lowest to highest, and their median:"
    echo
    for paths in $(tail -n +2 "$dir/whole_rounds.csv" | cut -d, -f1 | uniq); do
      awk -F, -v p="$paths" 'NR>1 && $1==p {print $3/$4}' "$dir/whole_rounds.csv" | sort -g |
        awk -v p="$paths" '{r[++n]=$1} END{
          m = (n % 2) ? r[(n+1)/2] : (r[n/2] + r[n/2+1]) / 2
          printf "- %d paths: ", p; for (i=1;i<=n;i++) printf "%s%.2f", (i>1?", ":""), r[i]; printf "; median **%.2fx**\n", m}'
    done
  fi
  echo
  if [ -f "$dir/paths_csv.csv" ]; then
    echo "## Writing paths.csv too (\`--paths-csv\`), best of 5 (10^5 paths) and 3 (10^6) rounds"
    echo
    echo "| paths | threads | wall s without | wall s with | with / without |"
    echo "|---:|---:|---:|---:|---:|"
    tail -n +2 "$dir/paths_csv.csv" | awk -F, '{printf "| %d | %d | %s | %s | %.2fx |\n", $1, $2, $3, $4, $5}'
    if [ -f "$dir/paths_csv_instructions.csv" ]; then
      awk -F, '$1=="without"{a=$2} $1=="with"{b=$2} END{printf "\nInstructions per path (callgrind, one thread, 20,000 minus 10,000 paths): %d without, %d with paths.csv (%d per row).\n", a, b, b-a}' "$dir/paths_csv_instructions.csv"
    fi
    echo
  fi
  if [ -f "$dir/runs.csv" ]; then
    echo "## Commands of many runs (baseline), best of 3 rounds, 1- and 2-thread runs interleaved"
    echo
    echo "| command | runs | paths per run | 1 thread s | 2 threads s | speed-up |"
    echo "|---|---:|---:|---:|---:|---:|"
    awk -F, 'NR>1 && $4==1{one[$1","$2","$3]=$5; order[++n]=$1","$2","$3} NR>1 && $4==2{two[$1","$2","$3]=$5}
      END{for (i=1;i<=n;i++) {k=order[i]; split(k,a,","); printf "| %s | %d | %d | %s | %s | %.2fx |\n", a[1], a[2], a[3], one[k], two[k], one[k]/two[k]}}' "$dir/runs.csv"
    echo
  fi
  echo "## Control: two independent 1-thread processes of 500,000 paths"
  echo
  echo "| run | alone s | side by side s | slow-down |"
  echo "|---:|---:|---:|---:|"
  tail -n +2 "$dir/two_processes.csv" | awk -F, '{m=($3>$4)?$3:$4; printf "| %d | %s | %s, %s | %.2fx |\n", $1, $2, $3, $4, m/$2}'
  if [ -f "$dir/numpy.csv" ]; then
    echo
    echo "## capsim and the NumPy reference (benches/numpy_reference.py), one thread, CPU time"
    echo
    echo "| implementation | paths | CPU s | path-periods/s |"
    echo "|---|---:|---:|---:|"
    tail -n +2 "$dir/numpy.csv" | awk -F, '{printf "| %s | %d | %s | %.2f M |\n", $1, $2, $3, $4/1e6}'
    echo
    printf 'capsim / NumPy speed (NumPy CPU s / capsim CPU s, each round):'
    tail -n +2 "$dir/numpy.csv" | awk -F, '$1 == "numpy" {n = $3} $1 == "capsim" {printf " %.1fx", n / $3}'
    echo
  fi
  if [ -f "$dir/numpy_check.csv" ]; then
    echo
    echo "## Independent check: per-path means of capsim and the NumPy reference"
    echo
    echo "20,000 paths each, different random numbers; every shipped scenario and"
    echo "the all-rules test scenario (golden). Largest gap between the two means"
    echo "over the scenario's metrics, in combined standard errors."
    echo
    echo "| scenario | metrics | largest gap | on |"
    echo "|---|---:|---:|---|"
    tail -n +2 "$dir/numpy_check.csv" | awk -F, '{printf "| %s | %d | %s | %s |\n", $1, $2, $3, $4}'
  fi
  echo
  echo "## Peak memory (default threads)"
  echo
  echo "| paths | runs, peak RSS KiB | median |"
  echo "|---:|---:|---:|"
  tail -n +2 "$dir/memory.csv" | awk -F, '{printf "| %d | %d, %d, %d | %d |\n", $1, $2, $3, $4, $5}'
  awk -F, 'NR==2{a=$5} NR==3{printf "\nRatio of the medians, 800,000 / 20,000 paths: %.2f\n", $5/a}' "$dir/memory.csv"
  if [ -f "$dir/ab.csv" ]; then
    echo
    echo "## This build against another (\`run.sh --ab\`): 10^6 baseline paths, alternating"
    echo
    echo "| threads | round | first | other | other s | this s | this / other |"
    echo "|---:|---:|---|---|---:|---:|---:|"
    tail -n +2 "$dir/ab.csv" | awk -F, '{printf "| %d | %d | %s | %s | %.3f | %.3f | %.2f |\n", $2, $3, $4, $5, $6, $7, $8}'
  fi
  if [ -f "$dir/instructions.csv" ]; then
    echo
    echo "## Instructions per path-period (callgrind; 4,096 minus 2,048 paths)"
    echo
    echo "| scenario | part | instructions | vs. RNG floor |"
    echo "|---|---|---:|---:|"
    awk -F, 'NR>1 && $2=="rng_floor"{f[$1]=$3} NR>1{r[NR]=$0} END{for (i=2;i<=NR;i++) {split(r[i],a,","); printf "| %s | %s | %d | %.1fx |\n", a[1], a[2], a[3], a[3]/f[a[1]]}}' "$dir/instructions.csv"
  fi
  echo
  # shellcheck disable=SC2016 # the backquotes are markdown
  echo '## Criterion medians (`*_engine`: 16,384 paths per iteration; others 2,048; allocation: one period)'
  echo
  echo "| group | bench | median | path-periods/s |"
  echo "|---|---|---:|---:|"
  { grep '^baseline,' "$dir/criterion.csv"; grep -v '^baseline,' "$dir/criterion.csv" | tail -n +2; } |
    awk -F, '{t = ($3 < 1e4) ? sprintf("%.1f ns", $3) : sprintf("%.3f ms", $3/1e6);
              printf "| %s | %s | %s | %.2f M |\n", $1, $2, t, $4/1e6}'
} > "$dir/tables.md"
echo "wrote $dir/tables.md"
