#!/usr/bin/env bash
# Runs campaign-notifier on the DirectRunner, in one local JVM.
#
#   runners/direct.sh                      # embedded Kafka + PostgreSQL (the quick start)
#   runners/direct.sh --bootstrapServers=broker:9092 --jdbcUrl=jdbc:postgresql://db:5432/de
#
# Any option of the README's table can follow. The service turns the DirectRunner's immutability
# and encodability checks off unless you give them (RunnerProfile; they cost about 4x throughput).
# JAVA_OPTS adds JVM flags (heap size, say).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
run_local direct-runner \
  --runner=DirectRunner "$@"
