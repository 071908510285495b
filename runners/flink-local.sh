#!/usr/bin/env bash
# Runs campaign-notifier on Flink's embedded local cluster (a MiniCluster in one local JVM).
#
#   runners/flink-local.sh                          # embedded Kafka + PostgreSQL
#   runners/flink-local.sh --bootstrapServers=... --jdbcUrl=...
#
# Checkpoints every 10 s: KafkaIO's reader offsets and the held/seen campaigns are snapshotted
# together, so a restore neither skips nor repeats a campaign. The checkpoints go to files under
# CHECKPOINT_DIR (default /tmp/campaign-notifier/flink-checkpoints): Flink's default keeps them on
# the JobManager's heap with a 5 MB limit, which the subscriber side input passes at about 150,000
# rows, and every checkpoint after that fails.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
#
# A fan-out makes 4 slices per turn (--fanOutSlicesPerTurn): in one go, a big campaign's fan-out
# would hold its subtask until the whole campaign is delivered, and a small campaign published
# meanwhile would wait for it (docs/performance.md).
#
# Subscribers are looked up per campaign (--subscribers=lookup) unless you choose: Flink keeps a side
# input in its operator state, so snapshot mode writes the whole subscriber table into every
# checkpoint, and a small campaign waits behind that checkpoint (docs/performance.md).
#
# Flink's Prometheus reporter serves the pipeline's metrics on http://localhost:9249/ (configured in
# runners/flink-conf/flink-conf.yaml; --flinkConfDir=<dir> replaces it). The service's own
# /metrics (--metricsPort) serves the health checks, the live gauges and the JVM's metrics.
CHECKPOINT_DIR=${CHECKPOINT_DIR:-/tmp/campaign-notifier/flink-checkpoints}
# shellcheck disable=SC2046
run_local flink-runner \
  --runner=FlinkRunner --flinkMaster='[local]' --checkpointingInterval=10000 --fasterCopy=true \
  --stateBackend=filesystem --stateBackendStoragePath="file://$CHECKPOINT_DIR" \
  $(default_option flinkConfDir "$(cd "$(dirname "$0")" && pwd)/flink-conf" "$@") \
  $(default_subscribers lookup "$@") $(default_option fanOutSlicesPerTurn 4 "$@") "$@"
