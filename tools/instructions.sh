#!/usr/bin/env bash
# Instructions per delivered event by thread role (issue 12): runs the W1 workload
# (`htevents-cpp load`) under callgrind with one output file per thread, tells each thread's role
# from the functions it ran, and prints instructions per delivered event for the producers, the
# serializer (outside the compressor), the compressor (libzstd/zlib, called by the serializer or
# by the sender when it recompresses), the sender, the client's total with and without the
# compressor, and the collector (not in the client's totals). The producer row has a second
# line: what the calls into the SDK cost (the inclusive cost of the calls load's own functions
# make into htevents::v0, plus load's send_w1_fast, where the builder calls are inlined); the
# rest is load's own work (W1's ids, its per-call timing, building the struct).
#
#   tools/instructions.sh                          # fast path and struct API, 200,000 events, 1 thread:
#                                                  # about 15 s per API
#   tools/instructions.sh --api fast --top 10      # and the 10 costliest functions of each role
#   tools/instructions.sh --collector traced       # count the collector too (slows the run down)
#   tools/instructions.sh --markdown               # the table of docs/benchmarks.md
#
# Options (also --name=value):
#   --api A             fast | struct | both (default both)
#   --events N          events to send (default 200000)
#   --threads T         producer threads (default 1)
#   --compression C     zstd | gzip | none (default zstd)
#   --collector M       native (default): the local collector (a child process) runs outside
#                       valgrind, fast enough not to hold batches back; traced: it runs under
#                       callgrind too and gets a row, but it answers ~50x slower, so batches
#                       wait, go stale and the sender recompresses most of them
#   --top N             also list the N functions with the highest self cost of each role
#   --json              one JSON object per API on stdout instead of the table
#   --markdown          the table as markdown
#   --keep DIR          keep the callgrind files and load's output in DIR (default: a temporary
#                       directory, removed at the end)
#   --bin PATH          the htevents-cpp binary (default $HTEVENTS, else build-rel/tools/ or
#                       build/tools/htevents-cpp; a build with symbols names more functions)
#   --help              this text
# Extra valgrind options: VALGRIND_OPTS (read by valgrind itself).
#
# Thread roles: callgrind writes callgrind.out.PID-TID per thread. A file whose command is the
# collector program is "collector"; in the load process thread 1 is "main" (start-up, close(),
# the checks; shown, not in the totals); a thread that ran Sender::run or CurlTransport::wait
# is "sender"; one that ran Serializer::*, IntakeConsumer::* or Envelope::append is
# "serializer"; one that ran WriterCore::*, ClientCore::enqueue or load's producer loop is
# "producer"; one that ran MHD_* or htevents::collector::* is "collector" (the in-process
# collector, used when htevents-cpp-collector is not next to htevents-cpp); any other thread is
# "other" and counts in the client's totals. Compressor cost is the inclusive cost of every call
# from outside libzstd/zlib into them (by object, or by name: ZSTD_*, HUF_*, FSE_*, deflate*).
#
# Under valgrind all threads of a process share one core and run ~50x slower: the sender finds
# some batches older than 250 ms and recompresses them with a fresh sentAt (the "sender" part of
# the compressor row; a native run recompresses almost none), and spin-waits count as much as
# they spin. "client total outside the compressor" is the number least moved by that.
#
# Exit code: 0 on success, 1 when a run failed (load not verified, 0 events delivered, no
# callgrind file, a role missing), 2 on usage errors.
set -euo pipefail
caller_dir=$(pwd)
cd "$(dirname "$0")/.."

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "instructions.sh: $*" >&2; exit 1; }
usage_error() { echo "instructions.sh: $*" >&2; echo "(try tools/instructions.sh --help)" >&2; exit 2; }

api=both
events=200000
threads=1
compression=zstd
collector=native
top=0
format=text
keep=
bin=${HTEVENTS:-}
# take "$@": the option's value, inline (--name=value) or the next argument (then shift by 2).
take() {
  if [ "$has_value" -eq 1 ]; then return; fi
  [ $# -ge 2 ] || usage_error "$arg needs a value"
  value=$2
  shift_by=2
}
while [ $# -gt 0 ]; do
  arg=$1
  value=
  has_value=0
  shift_by=1
  case "$arg" in
    --*=*) value=${arg#*=}; arg=${arg%%=*}; has_value=1 ;;
  esac
  case "$arg" in
    --help|-h) usage; exit 0 ;;
    --api) take "$@"; api=$value ;;
    --events) take "$@"; events=$value ;;
    --threads) take "$@"; threads=$value ;;
    --compression) take "$@"; compression=$value ;;
    --collector) take "$@"; collector=$value ;;
    --top) take "$@"; top=$value ;;
    --keep) take "$@"; keep=$value ;;
    --bin) take "$@"; bin=$value ;;
    --json) format=json ;;
    --markdown) format=markdown ;;
    *) usage_error "unknown option '$arg'" ;;
  esac
  shift "$shift_by"
done
case "$api" in fast) apis=(fast) ;; struct) apis=(struct) ;; both) apis=(fast struct) ;;
  *) usage_error "--api must be fast, struct or both" ;; esac
case "$compression" in zstd|gzip|none) ;; *) usage_error "--compression must be zstd, gzip or none" ;; esac
case "$collector" in native|traced) ;; *) usage_error "--collector must be native or traced" ;; esac
[[ "$events" =~ ^[1-9][0-9]*$ ]] || usage_error "--events must be a positive number"
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || usage_error "--threads must be a positive number"
[[ "$top" =~ ^[0-9]+$ ]] || usage_error "--top must be a number"

absolute() { case "$1" in /*|'') printf '%s' "$1" ;; *) printf '%s/%s' "$caller_dir" "$1" ;; esac; }
bin=$(absolute "$bin")
keep=$(absolute "$keep")
if [ -z "$bin" ]; then
  for candidate in build-rel/tools/htevents-cpp build/tools/htevents-cpp; do
    [ -x "$candidate" ] && bin=$candidate && break
  done
fi
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
  die "no htevents-cpp binary (build the htevents_cli target, or give --bin or HTEVENTS)"
fi
command -v jq >/dev/null || die "needs jq (tools/setup.sh installs it)"
if ! command -v valgrind >/dev/null; then
  [ "$(id -u)" -eq 0 ] || die "needs valgrind (tools/setup.sh installs it)"
  echo "instructions.sh: installing valgrind" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null ||
    die "could not install valgrind (apt-get install -y valgrind)"
fi

if [ -n "$keep" ]; then
  mkdir -p "$keep"
  work=$(cd "$keep" && pwd)
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi

# Reads the callgrind files of one run (one per thread) and prints per thread
#   T <tab> file pid thread role Ir compressor_Ir compressions sdk_Ir entry
# (sdk_Ir: the inclusive cost of the calls load's own functions make into the SDK, plus the self
# cost of load's send_w1_fast, where the fast path's builder calls are inlined) and per role and function the self cost
#   S <tab> role Ir function
# Names are compressed ("(id) name" the first time, "(id)" after); cost lines after "calls="
# are the inclusive cost of that call, all others the self cost of the current function.
read -r -d '' parse_awk <<'EOF' || true
function resolve(v, table,    close_at, id, name) {
  if (substr(v, 1, 1) != "(") return v
  close_at = index(v, ")")
  id = substr(v, 2, close_at - 2)
  name = substr(v, close_at + 2)
  if (name != "") { if (table == "fn") fn_names[id] = name; else ob_names[id] = name }
  return table == "fn" ? fn_names[id] : ob_names[id]
}
function in_compressor(fn, ob) {
  return ob ~ /libzstd\.so|libz\.so/ || fn ~ /^(ZSTD_|ZSTDMT_|HUF_|FSE_|HIST_|deflate|compress2?$)/
}
# Whether a function is the SDK's: its qualified name (after any return type, before the
# parameters) starts with htevents::v0:: ("void htevents::v0::detail::encode_object<...>(...)"
# is; "std::vector<htevents::v0::Value>::~vector()" is not).
function is_sdk(fn,    i, c, depth, start, name) {
  if (fn in sdk_cache) return sdk_cache[fn]
  depth = 0; start = 1
  for (i = 1; i <= length(fn); i++) {
    c = substr(fn, i, 1)
    if (c == "<") depth++
    else if (c == ">") depth--
    else if (c == "(" && depth == 0) break
    else if (c == " " && depth == 0) start = i + 1
  }
  name = substr(fn, start, i - start)
  return sdk_cache[fn] = (index(name, "htevents::v0::") == 1)
}
function basename(path) { sub(/.*\//, "", path); return path }
# A function without a symbol (a stripped library) is named by its address and object.
function label(fn, ob) { return fn ~ /^0x/ ? fn " [" basename(ob) "]" : fn }
function mark(fn) {
  if (fn == "main") has_main = 1
  if (fn ~ /detail::Sender::run\(\)|detail::CurlTransport::wait\(/) has_sender = 1
  if (fn ~ /getaddrinfo_thread|gethostbyname_thread/) has_resolver = 1
  if (fn ~ /detail::Serializer::|detail::IntakeConsumer::|detail::Envelope::append\(/) has_serializer = 1
  if (fn ~ /detail::WriterCore::|detail::ClientCore::enqueue|htevents::v0::Client::(track|enqueue)|LoadOptions const&\)::\{lambda/) has_producer = 1
  if (fn ~ /^MHD_|htevents::collector::/) has_collector = 1
  if (fn ~ /^std::thread::_State_impl<.*>::_M_run\(\)$/) run_entry = fn
}
function finish(    role, entry, f) {
  if (file == "") return
  if (cmd ~ /htevents-cpp-collector/) role = "collector"
  else if (thread == 1 || has_main) role = "main"
  else if (has_sender || has_resolver) role = "sender"
  else if (has_serializer) role = "serializer"
  else if (has_producer) role = "producer"
  else if (has_collector) role = "collector"
  else role = "other"
  entry = run_entry != "" ? run_entry : start_entry
  sub(/^std::thread::_State_impl<std::thread::_Invoker<std::tuple</, "", entry)
  sub(/> > >::_M_run\(\)$/, "", entry)
  if (entry == "") entry = role == "main" ? "main" : "?"
  printf "T\t%s\t%s\t%d\t%s\t%.0f\t%.0f\t%.0f\t%.0f\t%s\n", file, pid, thread, role, totals, comp_ir,
         (compress_calls > 0 ? compress_calls : zstd_calls), sdk_ir, entry
  # libzstd/zlib on a client thread is the compressor's, not that thread's.
  for (f in self_cost) {
    r = (f in comp_fn) && role != "collector" && role != "main" ? "compressor" : role
    role_self[r SUBSEP f] += self_cost[f]
  }
}
function reset() {
  split("", fn_names); split("", ob_names); split("", self_cost); split("", comp_fn); split("", sdk_cache)
  cmd = ""; pid = ""; thread = 0; totals = 0; comp_ir = 0; compress_calls = 0; zstd_calls = 0; sdk_ir = 0
  has_main = has_sender = has_resolver = has_serializer = has_producer = has_collector = 0
  run_entry = ""; start_entry = ""; start_best = -1
  cur_fn = ""; cur_ob = ""; cur_comp = 0; call_fn = ""; call_ob = ""; call_count = 0; in_call = 0
  npos = 1; cost_field = 2
}
FNR == 1 { finish(); reset(); file = FILENAME; sub(/.*\//, "", file) }
/^cmd: / { cmd = substr($0, 6); next }
/^pid: / { pid = $2; next }
/^thread: / { thread = $2 + 0; next }
/^positions: / { npos = NF - 1; next }
/^events: / { for (i = 2; i <= NF; i++) if ($i == "Ir") cost_field = npos + i - 1; next }
/^(totals|summary): / { totals = $2 + 0; next }
/^ob=/ { cur_ob = resolve(substr($0, 4), "ob"); next }
/^fn=/ {
  cur_fn = resolve(substr($0, 4), "fn"); mark(cur_fn)
  cur_comp = in_compressor(cur_fn, cur_ob); cur_label = label(cur_fn, cur_ob); call_ob = ""; next
}
/^cob=/ { call_ob = resolve(substr($0, 5), "ob"); next }
/^cfn=/ { call_fn = resolve(substr($0, 5), "fn"); next }
/^calls=/ { split(substr($0, 7), parts, " "); call_count = parts[1] + 0; in_call = 1; next }
/^[0-9+*-]/ {
  cost = $cost_field + 0
  if (!in_call) {
    self_cost[cur_label] += cost
    if (cur_comp) comp_fn[cur_label] = 1
    if (cur_fn ~ /^htevents::load::send_w1_fast\(/) sdk_ir += cost
    next
  }
  in_call = 0
  callee_ob = call_ob != "" ? call_ob : cur_ob
  if (!cur_comp && in_compressor(call_fn, callee_ob)) comp_ir += cost
  if (call_fn ~ /detail::Compressor::compress\(/) compress_calls += call_count
  if (!cur_comp && call_fn ~ /^(ZSTD_compress2|ZSTD_compressCCtx|ZSTD_compress|deflate)$/) zstd_calls += call_count
  if (cur_fn ~ /htevents::(cli|load)::/ && is_sdk(call_fn)) sdk_ir += cost
  if (cur_fn == "start_thread" && cost > start_best) { start_best = cost; start_entry = label(call_fn, callee_ob) }
  call_ob = ""
  next
}
END {
  finish()
  for (k in role_self) { split(k, kv, SUBSEP); printf "S\t%s\t%.0f\t%s\n", kv[1], role_self[k], kv[2] }
}
EOF

# Reads the runs' files (each: an R line, then T and S lines from parse_awk) and prints the
# table (format text or markdown) or one JSON object per run.
read -r -d '' report_awk <<'EOF' || true
function group(v,    s, out) {
  s = sprintf("%.0f", v); out = ""
  while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
  return s out
}
# Shorter C++ names: common std types spelled as written; with `args`, parameter lists elided.
function short(name, args) {
  gsub(/std::basic_string_view<char, std::char_traits<char> >/, "std::string_view", name)
  gsub(/std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >/, "std::string", name)
  gsub(/htevents::v0::detail::/, "detail::", name)
  if (args) gsub(/\([^()]+\)/, "(...)", name)
  return name
}
function per_event(v, r) { return sprintf("%.1f", v / delivered[r]) }
function json_string(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, " ", s); return "\"" s "\"" }
function cell(row, r) {
  if (row ~ /^collector/ && !((r, "collector") in has_role)) return "-"
  return per_event(value[r, row], r)
}
$1 == "R" {
  r = ++runs; api[r] = $2; delivered[r] = $3; requests[r] = $4; events[r] = $5; nthreads[r] = $6
  compression[r] = $7; collector_mode[r] = $8; commit[r] = $9; next
}
$1 == "T" {
  role = $5; ir[r, role] += $6; comp[r, role] += $7; compressions[r, role] += $8; sdk[r, role] += $9
  count[r, role]++; has_role[r, role] = 1
  nthr[r]++; thr_line[r, nthr[r]] = sprintf("  %-12s %-11s %15s  %s", $3 "-" $4, role, group($6), short($10, 1))
  next
}
$1 == "S" { n = ++nself[r, $2]; self_ir[r, $2, n] = $3; self_fn[r, $2, n] = short($4, 0); next }
END {
  rows = "producer producer_sdk serializer compressor compressor_serializer compressor_sender sender other client_total client_outside collector collector_zstd main"
  nrows = split(rows, row_ids, " ")
  text["producer"] = "producer"
  text["producer_sdk"] = "  in htevents calls (rest: load's ids, timing, structs)"
  text["serializer"] = "serializer (outside the compressor)"
  text["compressor"] = "compressor (" "zstd/zlib" ")"
  text["compressor_serializer"] = "  called by the serializer"
  text["compressor_sender"] = "  called by the sender (recompressions)"
  text["sender"] = "sender (outside the compressor)"
  text["other"] = "other client threads"
  text["client_total"] = "client total"
  text["client_outside"] = "client total outside the compressor"
  text["collector"] = "collector (not in the client totals)"
  text["collector_zstd"] = "  of which zstd/zlib (decompression)"
  text["main"] = "main thread (start-up, close, checks; not in the totals)"
  for (r = 1; r <= runs; r++) {
    value[r, "producer"] = ir[r, "producer"]
    value[r, "producer_sdk"] = sdk[r, "producer"]
    value[r, "serializer"] = ir[r, "serializer"] - comp[r, "serializer"]
    value[r, "compressor_serializer"] = comp[r, "serializer"]
    value[r, "compressor_sender"] = comp[r, "sender"] + comp[r, "producer"] + comp[r, "other"]
    value[r, "compressor"] = value[r, "compressor_serializer"] + value[r, "compressor_sender"]
    value[r, "sender"] = ir[r, "sender"] - comp[r, "sender"]
    value[r, "other"] = ir[r, "other"] - comp[r, "other"]
    value[r, "client_outside"] = ir[r, "producer"] - comp[r, "producer"] + value[r, "serializer"] + value[r, "sender"] + value[r, "other"]
    value[r, "client_total"] = value[r, "client_outside"] + value[r, "compressor"]
    value[r, "collector"] = ir[r, "collector"]
    value[r, "collector_zstd"] = comp[r, "collector"]
    value[r, "main"] = ir[r, "main"]
    if (count[r, "other"] > 0) show_other = 1
    if ((r, "collector") in has_role) show_collector = 1
  }
  if (format == "json") {
    for (r = 1; r <= runs; r++) {
      printf "{\"api\":\"%s\",\"events\":%d,\"delivered\":%d,\"requests\":%d,\"threads\":%d,\"compression\":\"%s\",\"collector\":\"%s\",\"commit\":\"%s\",\"instructions_per_event\":{", api[r], events[r], delivered[r], requests[r], nthreads[r], compression[r], collector_mode[r], commit[r]
      for (i = 1; i <= nrows; i++) {
        id = row_ids[i]
        v = (id ~ /^collector/ && !((r, "collector") in has_role)) ? "null" : per_event(value[r, id], r)
        printf "%s\"%s\":%s", (i > 1 ? "," : ""), id, v
      }
      printf "},\"instructions\":{"
      for (i = 1; i <= nrows; i++) printf "%s\"%s\":%.0f", (i > 1 ? "," : ""), row_ids[i], value[r, row_ids[i]]
      printf "},\"compressions\":{\"serializer\":%d,\"sender\":%d},\"threads_by_role\":{", compressions[r, "serializer"], compressions[r, "sender"]
      split("producer serializer sender collector main other", roles, " ")
      for (i = 1; i <= 6; i++) printf "%s\"%s\":%d", (i > 1 ? "," : ""), roles[i], count[r, roles[i]]
      printf "}"
      if (top > 0) {
        printf ",\"top_self\":{"
        split("producer serializer compressor sender collector main other", roles, " ")
        first_role = 1
        for (i = 1; i <= 7; i++) {
          role = roles[i]; if (nself[r, role] == 0) continue
          printf "%s\"%s\":[", (first_role ? "" : ","), role; first_role = 0
          top_list(r, role)
          for (k = 1; k <= ntop; k++) printf "%s{\"function\":%s,\"per_event\":%s}", (k > 1 ? "," : ""), json_string(self_fn[r, role, pick[k]]), per_event(self_ir[r, role, pick[k]], r)
          printf "]"
        }
        printf "}"
      }
      printf "}\n"
    }
    exit 0
  }
  for (r = 1; r <= runs; r++) {
    printf "%s: %s of %s W1 events delivered in %s requests, %d producer thread%s, %s; compressions: serializer %s, sender %s\n",
      (api[r] == "fast" ? "fast path" : "struct API"), group(delivered[r]), group(events[r]), group(requests[r]),
      nthreads[r], (nthreads[r] == 1 ? "" : "s"), compression[r], group(compressions[r, "serializer"]), group(compressions[r, "sender"])
  }
  printf "callgrind instructions per delivered event, commit %s; %s\n\n", commit[1],
    (show_collector ? "the collector counted too" : "the collector (a child process) not run under valgrind (-)")
  width = 58
  if (format == "markdown") {
    printf "| instructions per delivered event |"
    for (r = 1; r <= runs; r++) printf " %s |", (api[r] == "fast" ? "fast path" : "struct API")
    printf "\n|---|"
    for (r = 1; r <= runs; r++) printf "---:|"
    printf "\n"
  } else {
    printf "%-" width "s", "role"
    for (r = 1; r <= runs; r++) printf " %14s", (api[r] == "fast" ? "fast path" : "struct API")
    printf "\n"
  }
  for (i = 1; i <= nrows; i++) {
    id = row_ids[i]
    if (id == "other" && !show_other) continue
    if (id == "collector_zstd" && !show_collector) continue
    bold = (format == "markdown" && (id == "client_total" || id == "client_outside")) ? "**" : ""
    if (format == "markdown") {
      label = text[id]; sub(/^  /, "\\&nbsp;\\&nbsp;", label)
      printf "| %s%s%s |", bold, label, bold
      for (r = 1; r <= runs; r++) printf " %s%s%s |", bold, cell(id, r), bold
      printf "\n"
    } else {
      printf "%-" width "s", text[id]
      for (r = 1; r <= runs; r++) printf " %14s", cell(id, r)
      printf "\n"
    }
  }
  if (format == "markdown") exit 0
  for (r = 1; r <= runs; r++) {
    printf "\nthreads, %s (pid-thread of the callgrind file, role, instructions, entry):\n", (api[r] == "fast" ? "fast path" : "struct API")
    for (k = 1; k <= nthr[r]; k++) print thr_line[r, k]
  }
  if (top == 0) exit 0
  split("producer serializer compressor sender collector main other", roles, " ")
  for (r = 1; r <= runs; r++) {
    for (i = 1; i <= 7; i++) {
      role = roles[i]; if (nself[r, role] == 0) continue
      printf "\ntop %d functions by self cost, %s, %s (instructions per delivered event):\n", top, (api[r] == "fast" ? "fast path" : "struct API"), role
      top_list(r, role)
      for (k = 1; k <= ntop; k++) printf "  %10s  %s\n", per_event(self_ir[r, role, pick[k]], r), substr(self_fn[r, role, pick[k]], 1, 150)
    }
  }
}
# pick[1..ntop]: the indexes of the `top` highest self costs of a role (selection: few picks).
function top_list(r, role,    k, j, best, n) {
  n = nself[r, role]; ntop = 0; split("", taken)
  for (k = 1; k <= top && k <= n; k++) {
    best = 0
    for (j = 1; j <= n; j++) if (!(j in taken) && (best == 0 || self_ir[r, role, j] > self_ir[r, role, best])) best = j
    taken[best] = 1; pick[++ntop] = best
  }
}
EOF

commit=$(git rev-parse --short HEAD 2>/dev/null || echo '?')
git diff --quiet HEAD -- src include tools 2>/dev/null || commit="$commit+changes"
valgrind_args=(--tool=callgrind --separate-threads=yes --collect-atstart=yes --dump-instr=no)
[ "$collector" = traced ] && valgrind_args+=(--trace-children=yes)
# More options for load, e.g. HTEVENTS_LOAD_ARGS="--spool /tmp/spool" (split on spaces).
read -r -a load_extra <<<"${HTEVENTS_LOAD_ARGS:-}"
reports=()
for a in "${apis[@]}"; do
  dir="$work/$a"
  rm -rf "$dir"
  mkdir -p "$dir"
  echo "instructions.sh: $a: valgrind --tool=callgrind $bin load --api $a --events $events --threads $threads --compression $compression --json" >&2
  status=0
  valgrind "${valgrind_args[@]}" --callgrind-out-file="$dir/callgrind.out.%p" --log-file="$dir/valgrind.%p.log" \
    "$bin" load --api "$a" --events "$events" --threads "$threads" --compression "$compression" --json \
    "${load_extra[@]}" >"$dir/load.json" 2>"$dir/load.stderr" || status=$?
  json=$(grep '^{' "$dir/load.json" | tail -n 1 || true)
  if [ -z "$json" ]; then
    cat "$dir/load.stderr" "$dir"/valgrind.*.log >&2 2>/dev/null || true
    die "$a: load printed no JSON (exit code $status)"
  fi
  delivered=$(jq -r '.delivered' <<<"$json")
  [ "$delivered" -gt 0 ] 2>/dev/null || die "$a: load delivered 0 events: $json"
  [ "$(jq -r '.verified' <<<"$json")" = true ] ||
    die "$a: load's run was not verified (exit code $status: an event not accepted, or not delivered exactly once): $json"
  [ "$status" -eq 0 ] || die "$a: load exited with $status: $json"
  shopt -s nullglob
  files=("$dir"/callgrind.out.*-*)
  shopt -u nullglob
  [ ${#files[@]} -gt 0 ] || die "$a: callgrind wrote no per-thread files in $dir"
  {
    printf 'R\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$a" "$delivered" "$(jq -r '.requests' <<<"$json")" "$events" \
      "$threads" "$compression" "$collector" "$commit"
    awk "$parse_awk" "${files[@]}"
  } >"$dir/threads.tsv"
  for role in producer serializer sender; do
    awk -F'\t' -v role="$role" '$1 == "T" && $5 == role { found = 1 } END { exit !found }' "$dir/threads.tsv" ||
      die "$a: no $role thread found among the callgrind files in $dir (see $dir/threads.tsv)"
  done
  producers=$(awk -F'\t' '$1 == "T" && $5 == "producer" { n++ } END { print n + 0 }' "$dir/threads.tsv")
  [ "$producers" -eq "$threads" ] || die "$a: found $producers producer threads, expected $threads (see $dir/threads.tsv)"
  reports+=("$dir/threads.tsv")
done

awk -F'\t' -v format="$format" -v top="$top" "$report_awk" "${reports[@]}"
[ -z "$keep" ] || echo "instructions.sh: callgrind files in $work" >&2
