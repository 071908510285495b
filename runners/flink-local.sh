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
CHECKPOINT_DIR=${CHECKPOINT_DIR:-/tmp/campaign-notifier/flink-checkpoints}
run_local flink-runner runtime \
  --runner=FlinkRunner --flinkMaster='[local]' --checkpointingInterval=10000 --fasterCopy=true \
  --stateBackend=filesystem --stateBackendStoragePath="file://$CHECKPOINT_DIR" "$@"
