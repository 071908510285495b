#!/usr/bin/env bash
# Runs campaign-notifier on Spark with a local master, in one local JVM.
#
#   runners/spark-local.sh                          # embedded Kafka + PostgreSQL
#   runners/spark-local.sh --bootstrapServers=... --jdbcUrl=...
#
# Spark itself is test-scoped in the build (a cluster provides it); this launcher puts it on the
# application's classpath (lib.sh). Spark checkpoints its streaming state under CHECKPOINT_DIR, in a
# run-<millis> directory per start (earlier ones are deleted); a restart resumes from the replay
# plan and the delivery ledger, as on every runner (docs/runners.md).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
# BATCH_INTERVAL_MILLIS (default 1000, the service's default on Spark) is the micro-batch interval:
# a new campaign waits for the next batch, and every batch costs the driver a job generation even
# when idle; with 500 ms a 2-core machine's driver fell further behind every second (see
# docs/performance.md; the spark_microBatchLagSeconds gauge shows it).
# The service's Spark defaults (--subscribers=lookup, Spark's metric sinks off, 1,000 ms batches)
# are its RunnerProfile's (docs/runners.md); the options you give win.
CHECKPOINT_DIR=${CHECKPOINT_DIR:-/tmp/campaign-notifier/spark-checkpoint}
# Spark reads spark.* system properties into its configuration: its Prometheus endpoints on the UI
# port (4040), next to the service's /metrics (docs/operations.md).
for conf in "${SPARK_PROMETHEUS_CONF[@]}"; do
  JAVA_OPTS="${JAVA_OPTS:-} -D$conf"
done
export JAVA_OPTS
# Each option below only where the command line does not give it: Beam refuses an option given twice.
defaults=(--runner=SparkRunner)
with_default_option() {
  local option
  option=$(default_option "$@")
  if [ -n "$option" ]; then defaults+=("$option"); fi
}
with_default_option sparkMaster 'local[*]' "$@"
with_default_option batchIntervalMillis "${BATCH_INTERVAL_MILLIS:-1000}" "$@"
with_default_option checkpointDir "$CHECKPOINT_DIR" "$@"
run_local spark-runner "${defaults[@]}" "$@"
