#!/bin/bash
# The stored top-N's two table shapes on PostgreSQL alone (pure SQL, no Django): a million customers'
# lists of 20 written as a night writes a new version, in two COPY streams (two worker processes),
# into a table already holding the previous night's lists.
#   one row a slot      (mlcore_recommendation until migration 0018: id, unique (version, customer, rank),
#                        version, customer and product indexes): 20M rows beside 20M
#   one row a customer  (mlcore_recommendationlist: unique (version, customer), customer; items jsonb): 1M beside 1M
# Usage: bench/topn_table_shapes.sh [database URL]  (default: a scratch database topn_shapes on 127.0.0.1, created and dropped)
# Needs ~12 GB of disk and ~10 minutes on a 2-core box. Figures: docs/scale.md.
set -euo pipefail
ADMIN="psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -q"
URL=${1:-}
if [ -z "$URL" ]; then $ADMIN -c "DROP DATABASE IF EXISTS topn_shapes" -c "CREATE DATABASE topn_shapes"; URL=postgres://postgres@127.0.0.1:5432/topn_shapes; fi
P="psql $URL -v ON_ERROR_STOP=1 -q"
TMP=$(mktemp -d); chmod 777 "$TMP"; trap 'rm -rf "$TMP"' EXIT
REASON="'you bought this ' || (r % 5) || ' times; customers like you bought it'"
$P <<SQL
DROP TABLE IF EXISTS shape_slots; DROP TABLE IF EXISTS shape_lists;
CREATE TABLE shape_slots (id bigserial PRIMARY KEY, model_version_id bigint NOT NULL, customer_id bigint NOT NULL,
  product_id bigint NOT NULL, rank smallint NOT NULL, score double precision NOT NULL, reason varchar(300) NOT NULL);
INSERT INTO shape_slots (model_version_id, customer_id, product_id, rank, score, reason)
  SELECT 1, c, 1 + (hashint4(c * 20 + r) & 4095), r, random(), $REASON FROM generate_series(1, 1000000) c, generate_series(1, 20) r;
CREATE UNIQUE INDEX ON shape_slots (model_version_id, customer_id, rank); CREATE INDEX ON shape_slots (model_version_id);
CREATE INDEX ON shape_slots (customer_id); CREATE INDEX ON shape_slots (product_id);
CREATE TABLE shape_lists (id bigserial PRIMARY KEY, model_version_id bigint NOT NULL, customer_id bigint NOT NULL, items jsonb NOT NULL);
INSERT INTO shape_lists (model_version_id, customer_id, items)
  SELECT model_version_id, customer_id, jsonb_agg(jsonb_build_array(product_id, round(score::numeric, 6), reason) ORDER BY rank)
  FROM shape_slots GROUP BY 1, 2;
CREATE UNIQUE INDEX ON shape_lists (model_version_id, customer_id); CREATE INDEX ON shape_lists (customer_id);
SQL
$P -c "VACUUM ANALYZE shape_slots" -c "VACUUM ANALYZE shape_lists"
for half in 0 1; do
  lo=$((half * 500000 + 1)); hi=$(((half + 1) * 500000))
  $P -c "\\copy (SELECT 2, customer_id, product_id, rank, score, reason FROM shape_slots WHERE customer_id BETWEEN $lo AND $hi ORDER BY customer_id, rank) TO '$TMP/slots_$half.csv' WITH (FORMAT csv)"
  $P -c "\\copy (SELECT 2, customer_id, items FROM shape_lists WHERE customer_id BETWEEN $lo AND $hi ORDER BY customer_id) TO '$TMP/lists_$half.csv' WITH (FORMAT csv)"
done
$P -c "CHECKPOINT"
timed() {  # $1 table, $2 columns, $3 file prefix
  local start end
  start=$(date +%s.%N)
  for half in 0 1; do $P -c "\\copy $1 ($2) FROM '$TMP/$3_$half.csv' WITH (FORMAT csv)" & done
  wait
  end=$(date +%s.%N)
  echo "$1: $(echo "$end - $start" | bc) s for the new night's rows (2 streams); table now $($P -Atc "SELECT count(*) FROM $1") rows, $($P -Atc "SELECT pg_size_pretty(pg_total_relation_size('$1'))")"
}
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
timed shape_slots "model_version_id, customer_id, product_id, rank, score, reason" slots
timed shape_lists "model_version_id, customer_id, items" lists
if [ -z "${1:-}" ]; then $ADMIN -c "DROP DATABASE topn_shapes"; fi
