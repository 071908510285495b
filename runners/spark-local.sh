#!/usr/bin/env bash
# Runs campaign-notifier on Spark with a local master, in one local JVM.
#
#   runners/spark-local.sh                          # embedded Kafka + PostgreSQL
#   runners/spark-local.sh --bootstrapServers=... --jdbcUrl=...
#
# Spark itself is test-scoped in the build (a cluster provides it); this launcher puts it on the
# application's classpath (lib.sh). Streaming state (held campaigns, repeats) is checkpointed to CHECKPOINT_DIR; keep it
# between runs to resume, delete it to start afresh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
# BATCH_INTERVAL_MILLIS (default 500) is the micro-batch interval: a new campaign waits for the next
# batch, and every batch costs Spark a job generation even when idle (see docs/performance.md).
# Subscribers are looked up per campaign by default on Spark (docs/runners.md: Spark broadcasts a
# side input again for every refresh); --subscribers=snapshot overrides it.
CHECKPOINT_DIR=${CHECKPOINT_DIR:-/tmp/campaign-notifier/spark-checkpoint}
# Spark reads spark.* system properties into its configuration: its Prometheus endpoints on the UI
# port (4040), next to the service's /metrics (docs/operations.md).
for conf in "${SPARK_PROMETHEUS_CONF[@]}"; do
  JAVA_OPTS="${JAVA_OPTS:-} -D$conf"
done
export JAVA_OPTS
# shellcheck disable=SC2046
run_local spark-runner \
  --runner=SparkRunner --sparkMaster='local[*]' --batchIntervalMillis="${BATCH_INTERVAL_MILLIS:-500}" \
  --checkpointDir="$CHECKPOINT_DIR" $(default_subscribers lookup "$@") \
  $(default_option enableSparkMetricSinks false "$@") "$@"
