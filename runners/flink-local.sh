#!/usr/bin/env bash
# Runs campaign-notifier on Flink's embedded local cluster (a MiniCluster in one local JVM).
#
#   runners/flink-local.sh                          # embedded Kafka + PostgreSQL
#   runners/flink-local.sh --bootstrapServers=... --jdbcUrl=...
#
# The service checkpoints every 10 s unless --checkpointingInterval says otherwise (its
# RunnerProfile, with the other Flink defaults: 4 slices per turn, --subscribers=lookup; see
# docs/runners.md). The checkpoints go to files under
# CHECKPOINT_DIR (default /tmp/campaign-notifier/flink-checkpoints): Flink's default keeps them on
# the JobManager's heap with a 5 MB limit, which the subscriber side input passes at about 150,000
# rows, and every checkpoint after that fails.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
#
# Flink's Prometheus reporter serves the pipeline's metrics on http://localhost:9249/ (configured in
# runners/flink-conf/flink-conf.yaml; --flinkConfDir=<dir> replaces it). The service's own
# /metrics (--metricsPort) serves the health checks, the live gauges and the JVM's metrics.
CHECKPOINT_DIR=${CHECKPOINT_DIR:-/tmp/campaign-notifier/flink-checkpoints}
# shellcheck disable=SC2046
run_local flink-runner \
  --runner=FlinkRunner --flinkMaster='[local]' \
  --stateBackend=filesystem --stateBackendStoragePath="file://$CHECKPOINT_DIR" \
  $(default_option flinkConfDir "$(cd "$(dirname "$0")" && pwd)/flink-conf" "$@") "$@"
