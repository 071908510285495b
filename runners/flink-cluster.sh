#!/usr/bin/env bash
# Submits campaign-notifier to a Flink 1.19 session cluster with `flink run`, detached.
#
#   FLINK_JOBMANAGER=jobmanager:8081 runners/flink-cluster.sh \
#     --bootstrapServers=broker:9092 --jdbcUrl=jdbc:postgresql://db:5432/de
#
# Needs `flink` on PATH (or FLINK_HOME) and the servers' addresses (a cluster never starts the
# embedded ones). Checkpoints every 10 s into the cluster's configured state backend
# (state.checkpoints.dir in its config) and keeps the last one when the job is cancelled; resume
# by running this again with FLINK_RESTORE=<that chk-N directory, or a savepoint>.
# The service's Flink defaults (4 slices per turn, --subscribers=lookup, a checkpoint every 10 s,
# --fasterCopy) are its RunnerProfile's (docs/runners.md); the options you give win.
# Builds the bundle (target/*-flink.jar) first if it is missing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
: "${FLINK_JOBMANAGER:?set FLINK_JOBMANAGER, e.g. jobmanager:8081}"
FLINK=${FLINK_HOME:+$FLINK_HOME/bin/}flink
JAR=$(ls target/campaign-notifier-*-flink.jar 2>/dev/null | head -1 || true)
if [ -z "$JAR" ]; then
  mvn -q -B -Pflink-runner package -DskipTests
  JAR=$(ls target/campaign-notifier-*-flink.jar | head -1)
fi
exec "$FLINK" run -m "$FLINK_JOBMANAGER" -d ${FLINK_RESTORE:+-s "$FLINK_RESTORE"} "$JAR" \
  --runner=FlinkRunner --externalizedCheckpointsEnabled=true \
  --retainExternalizedCheckpointsOnCancellation=true "$@"
