#!/usr/bin/env bash
# Runs campaign-notifier on Flink's embedded local cluster (a MiniCluster in one local JVM).
#
#   runners/flink-local.sh                          # embedded Kafka + PostgreSQL
#   runners/flink-local.sh --bootstrapServers=... --jdbcUrl=...
#
# Checkpoints every 10 s: KafkaIO's reader offsets and the held/seen campaigns are snapshotted
# together, so a restore neither skips nor repeats a campaign.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
run_local flink-runner runtime \
  --runner=FlinkRunner --flinkMaster='[local]' --checkpointingInterval=10000 --fasterCopy=true "$@"
