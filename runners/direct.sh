#!/usr/bin/env bash
# Runs campaign-notifier on the DirectRunner, in this machine's JVM.
#
#   runners/direct.sh                      # embedded Kafka + PostgreSQL (the quick start)
#   runners/direct.sh --bootstrapServers=broker:9092 --jdbcUrl=jdbc:postgresql://db:5432/de
#
# Any option of the README's table can follow. The DirectRunner's immutability and encodability
# checks are for tests; they cost about 4x throughput, so the launcher turns them off.
set -euo pipefail
cd "$(dirname "$0")/.."
exec mvn -q -B compile exec:java \
  -Dexec.args="--runner=DirectRunner --enforceImmutability=false --enforceEncodability=false $*"
