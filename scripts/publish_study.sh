#!/usr/bin/env bash
# Copy a finished study's results into studies/<name>/ (the layout `bam markdown --results` reads) and
# regenerate the tables of its RESULTS.md. The page's hand-written sections start from
# studies/RESULTS.template.md the first time.
#   bash scripts/publish_study.sh /work/study glue-minilm
set -euo pipefail
RUN=${1:?give the study worktree, which holds results/}
NAME=${2:?give the study name under studies/}
SRC="$RUN/results"
DEST="studies/$NAME"
[ -f "$SRC/tables/tables.md" ] || { echo "$SRC: the study has not finished (no tables/tables.md)" >&2; exit 1; }
tmp=$(mktemp -d "studies/.$NAME.XXXX")
mkdir -p "$tmp/stats" "$tmp/report" "$tmp/tables" "$tmp/figures"
cp "$SRC/scores.parquet" "$tmp/"
cp "$SRC"/stats/*.parquet "$tmp/stats/"
cp "$SRC/report/stats_settings.json" "$tmp/report/"
cp "$SRC"/tables/*.tex "$SRC/tables/train_sizes.json" "$SRC/tables/cost.parquet" "$SRC/tables/tables.md" "$tmp/tables/"
cp "$SRC"/figures/*.png "$tmp/figures/"
if [ -d "$SRC/estimate" ]; then mkdir -p "$tmp/estimate" && cp "$SRC"/estimate/runs.tsv "$SRC"/estimate/summary.txt "$tmp/estimate/"; fi
cp "$RUN/STUDY_COMMIT" "$tmp/"
if [ -f "$DEST/RESULTS.md" ]; then cp "$DEST/RESULTS.md" "$tmp/"; else cp studies/RESULTS.template.md "$tmp/RESULTS.md"; fi
rm -rf "$DEST.old" && { [ ! -d "$DEST" ] || mv "$DEST" "$DEST.old"; } && mv "$tmp" "$DEST" && rm -rf "$DEST.old"
bam markdown --results "$DEST" --page "$DEST/RESULTS.md"
echo "published $SRC -> $DEST; now write RESULTS.md's hand-written sections (commit $(cat "$DEST/STUDY_COMMIT"))"
