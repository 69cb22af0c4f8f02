#!/usr/bin/env bash
# Compares `lifeboat bench ingest` with restic on the same bytes, side by
# side in one run, and measures lifeboat's peak memory on a 4 GB file.
#
#   bash installer/bench.sh            (what `make bench` runs)
#
# The corpus (1 GB+, generated deterministically, cached under bin/) has
#   text/        mail-like text in many files (compresses well),
#   packed/      already-compressed data: random bytes and a zstd archive,
#   versions/    ten edited versions of one 100 MB file (dedup).
# Each tool stores it into a fresh repository RUNS times (default 3); the
# report gives the medians and the ratios lifeboat/restic. The machine is
# usually shared, so only the ratios of runs made side by side mean much.
#
# Environment: RUNS (default 3), BENCH_SCALE (divides every size, for a
# quick try of the script; default 1), BIG_GB (size of the memory test
# input, default 4), LIFEBOAT (binary; default: build bin/lifeboat).
# The report goes to bin/bench-report.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
SCALE=${BENCH_SCALE:-1}
BIG_GB=${BIG_GB:-4}
CORPUS_VERSION=1
CORPUS=bin/bench-corpus
BIG=bin/bench-big
REPORT=bin/bench-report.txt
WORK=$(mktemp -d "${TMPDIR:-/tmp}/lifeboat-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p bin

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- tools -------------------------------------------------------------------
if ! command -v restic >/dev/null 2>&1 || [[ ! -x /usr/bin/time ]] || ! command -v zstd >/dev/null 2>&1 || ! command -v openssl >/dev/null 2>&1; then
	log "installing restic, time, zstd and openssl (Debian packages)"
	sudo=""
	[[ $(id -u) -ne 0 ]] && sudo=sudo
	$sudo apt-get update -qq
	$sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq restic time zstd openssl >/dev/null
fi
if [[ -z "${LIFEBOAT:-}" ]]; then
	log "building bin/lifeboat"
	go build -trimpath -o bin/lifeboat ./app
	LIFEBOAT=bin/lifeboat
fi
LIFEBOAT=$(realpath "$LIFEBOAT")

# --- corpus ------------------------------------------------------------------
# rand SEED BYTES: deterministic incompressible bytes (AES-CTR of zeros).
rand() {
	head -c "$2" /dev/zero | openssl enc -aes-256-ctr -nosalt -pass "pass:lifeboat-bench-$1" -pbkdf2 -iter 1 2>/dev/null
}

# text SEED LINES: deterministic mail-like text.
text() {
	awk -v seed="$1" -v lines="$2" 'BEGIN {
		srand(seed)
		n = split("the invoice for march is attached please find enclosed kind regards meeting tomorrow " \
			"project budget quarterly report draft review customer contract signed office lunch thanks " \
			"best wishes dear team schedule update delivery shipment order payment overdue reminder agenda " \
			"minutes notes Anna Paul Marie Jonas Lea Tom Berlin Hamburg Munich Monday Friday account number " \
			"total amount due net gross tax VAT shipping costs warehouse supplier offer price discount", w, " ")
		for (i = 0; i < lines; i++) {
			k = 6 + int(rand() * 10); line = ""
			for (j = 0; j < k; j++) line = line w[int(rand() * n) + 1] " "
			print line int(rand() * 100000)
		}
	}'
}

make_corpus() {
	local dir=$1 tmp="$1.partial"
	rm -rf "$tmp"
	mkdir -p "$tmp/text" "$tmp/packed" "$tmp/versions"
	log "generating the corpus in $dir (once; cached)"
	# ~300 MB of text in 3000 files of ~100 kB: 3000 × 1000 lines.
	local nfiles=$((3000 / SCALE))
	mkdir -p "$tmp"/text/{00..29}
	text 1 $((nfiles * 1000)) | awk -v dir="$tmp/text" '{
		k = int((NR - 1) / 1000)
		f = sprintf("%s/%02d/mail-%05d.eml", dir, k % 30, k)
		if (f != last) { if (last != "") close(last); last = f }
		print > f
	}'
	# ~200 MB of random bytes (photos, zip files) in 20 files, and a zstd
	# archive of part of the text.
	for i in $(seq 1 20); do
		rand "photo$i" $((10000000 / SCALE)) >"$tmp/packed/photo-$i.jpg"
	done
	text 2 $((1000000 / SCALE)) | zstd -q -3 -c >"$tmp/packed/old-mail.tar.zst"
	# A 100 MB file (half random, half text) and ten edited versions: each
	# overwrites a few bytes at 5 places and inserts 1 kB at one place of
	# the previous version.
	local base="$tmp/versions/report-v00.dat" half=$((50000000 / SCALE))
	{ rand base "$half"; (text 3 $((half / 50)) || true) | head -c "$half"; } >"$base"
	local prev=$base size
	for v in $(seq 1 10); do
		local cur
		cur=$(printf '%s/versions/report-v%02d.dat' "$tmp" "$v")
		size=$(stat -c %s "$prev")
		local at=$(((v * 7919 * 1237) % (size - 4096)))
		{ head -c "$at" "$prev"; rand "ins$v" 1000; tail -c +$((at + 1)) "$prev"; } >"$cur"
		for k in 1 2 3 4 5; do
			local off=$(((v * 104729 + k * 15485863) % (size - 64)))
			printf 'edit %02d.%d' "$v" "$k" | dd of="$cur" bs=1 seek="$off" conv=notrunc status=none
		done
		prev=$cur
	done
	echo "$CORPUS_VERSION scale=$SCALE" >"$tmp/.complete"
	rm -rf "$dir"
	mv "$tmp" "$dir"
}

if [[ "$(cat "$CORPUS/.complete" 2>/dev/null)" != "$CORPUS_VERSION scale=$SCALE" ]]; then
	make_corpus "$CORPUS"
fi
BIG_BYTES=$((BIG_GB * 1000000000 / SCALE))
if [[ "$(cat "$BIG/.complete" 2>/dev/null)" != "$BIG_BYTES" ]]; then
	log "generating the ${BIG_GB} GB memory-test input in $BIG (once; cached)"
	rm -rf "$BIG"
	mkdir -p "$BIG/in"
	rand big "$BIG_BYTES" >"$BIG/in/big.dat"
	echo "$BIG_BYTES" >"$BIG/.complete"
fi
CORPUS_BYTES=$(find "$CORPUS" -type f ! -name .complete -printf '%s\n' | awk '{s += $1} END {print s}')
CORPUS_FILES=$(find "$CORPUS" -type f ! -name .complete | wc -l)
# The corpus is read through the page cache by every run alike.
cat $(find "$CORPUS" -type f) >/dev/null

# --- runs --------------------------------------------------------------------
export RESTIC_PASSWORD=lifeboat-bench
export RESTIC_CACHE_DIR="$WORK/restic-cache"
export LIFEBOAT_CONFIG_DIR="$WORK/config"
export LIFEBOAT_SECRET_STORE=file
unset LIFEBOAT_REPO LIFEBOAT_RECOVERY_KEY

# run_tool TOOL SRC: stores SRC in a fresh repository; prints
# "seconds bytes maxrss_kb".
run_tool() {
	local tool=$1 src=$2 repo="$WORK/repo-$1" t="$WORK/time"
	rm -rf "$repo" "$RESTIC_CACHE_DIR"
	case $tool in
	lifeboat)
		"$LIFEBOAT" init --to "$repo" >/dev/null 2>"$WORK/init.err" || { cat "$WORK/init.err" >&2; return 1; }
		/usr/bin/time -f '%e %M' -o "$t" "$LIFEBOAT" bench ingest "$src" --to "$repo" >"$WORK/out" 2>"$WORK/err" ||
			{ cat "$WORK/out" "$WORK/err" >&2; return 1; }
		;;
	restic)
		restic init -q --repo "$repo" >/dev/null
		/usr/bin/time -f '%e %M' -o "$t" restic backup -q --repo "$repo" "$src" >"$WORK/out" 2>"$WORK/err" ||
			{ cat "$WORK/out" "$WORK/err" >&2; return 1; }
		;;
	esac
	sync
	local secs rss bytes
	read -r secs rss <"$t"
	bytes=$(du -sb "$repo" | cut -f1)
	rm -rf "$repo"
	echo "$secs $bytes $rss"
}

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

declare -A T S M
for tool in lifeboat restic; do T[$tool]=""; S[$tool]=""; M[$tool]=""; done
for i in $(seq 1 "$RUNS"); do
	# Alternate which tool goes first, so neither always gets a warmer machine.
	order="lifeboat restic"
	((i % 2 == 0)) && order="restic lifeboat"
	for tool in $order; do
		res=$(run_tool "$tool" "$CORPUS")
		read -r secs bytes rss <<<"$res"
		log "run $i $tool: ${secs}s, $bytes bytes, max RSS ${rss} kB"
		T[$tool]+="$secs"$'\n'
		S[$tool]+="$bytes"$'\n'
		M[$tool]+="$rss"$'\n'
	done
done

log "memory test: ${BIG_GB} GB file"
res=$(run_tool lifeboat "$BIG/in")
read -r big_secs big_bytes big_rss <<<"$res"
log "lifeboat ${BIG_GB} GB: ${big_secs}s, max RSS ${big_rss} kB"
res=$(run_tool restic "$BIG/in")
read -r rbig_secs rbig_bytes rbig_rss <<<"$res"
log "restic ${BIG_GB} GB: ${rbig_secs}s, max RSS ${rbig_rss} kB"

lt=$(printf '%s' "${T[lifeboat]}" | median)
rt=$(printf '%s' "${T[restic]}" | median)
ls_=$(printf '%s' "${S[lifeboat]}" | median)
rs=$(printf '%s' "${S[restic]}" | median)
lm=$(printf '%s' "${M[lifeboat]}" | median)
rm_=$(printf '%s' "${M[restic]}" | median)

{
	echo "Lifeboat vs restic: ingest of the same corpus into a fresh repository, median of $RUNS runs each, side by side."
	echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GB", $2 / 1e6}' /proc/meminfo) RAM"
	echo "Lifeboat: $("$LIFEBOAT" --version 2>/dev/null); $(restic version | head -1)"
	echo "Corpus: $CORPUS_FILES files, $CORPUS_BYTES bytes (text, already-compressed data, ten edited versions of a 100 MB file)."
	echo
	printf '%-22s %14s %14s %10s\n' "" "lifeboat" "restic" "ratio"
	awk -v lt="$lt" -v rt="$rt" -v ls="$ls_" -v rs="$rs" -v lm="$lm" -v rm="$rm_" -v cb="$CORPUS_BYTES" 'BEGIN {
		printf "%-22s %14.2f %14.2f %10.2f\n", "ingest time (s)", lt, rt, lt / rt
		printf "%-22s %14.1f %14.1f %10.2f\n", "speed (MB/s)", cb / 1e6 / lt, cb / 1e6 / rt, rt / lt
		printf "%-22s %14d %14d %10.3f\n", "repository (bytes)", ls, rs, ls / rs
		printf "%-22s %14.1f %14.1f %10.2f\n", "peak RSS (MiB)", lm / 1024, rm / 1024, lm / rm
	}'
	echo
	echo "(ratio = lifeboat / restic, except for speed: lifeboat's speed / restic's speed.)"
	echo "Targets: time ratio <= 1, size ratio <= 1."
	echo
	echo "Memory: one ${BIG_GB} GB file ($big_bytes-byte repository afterwards):"
	awk -v s="$big_secs" -v m="$big_rss" -v rs="$rbig_secs" -v rm="$rbig_rss" -v b="$BIG_BYTES" 'BEGIN {
		printf "  lifeboat: peak RSS %.1f MiB, %.1f s (%.0f MB/s)   target: under 256 MB\n", m / 1024, s, b / 1e6 / s
		printf "  restic:   peak RSS %.1f MiB, %.1f s (%.0f MB/s)\n", rm / 1024, rs, b / 1e6 / rs
	}'
	echo
	echo "Every run:"
	for tool in lifeboat restic; do
		echo "  $tool time (s):  $(printf '%s' "${T[$tool]}" | tr '\n' ' ')"
		echo "  $tool size (B):  $(printf '%s' "${S[$tool]}" | tr '\n' ' ')"
		echo "  $tool RSS (kB):  $(printf '%s' "${M[$tool]}" | tr '\n' ' ')"
	done
} | tee "$REPORT"
log "report written to $REPORT"
