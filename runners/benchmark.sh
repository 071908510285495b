#!/usr/bin/env bash
# The benchmark (see docs/performance.md). Starts a Kafka broker in a JVM of its own and a
# PostgreSQL with stock durability (fsync and synchronous_commit on), or uses the servers given with
# the service's own options; starts the service in a process of its own with its launcher; measures.
#
#   runners/benchmark.sh                                      # fan-out at 10k, 200k, 1M, 3 times each; DirectRunner
#   runners/benchmark.sh --runner=FlinkRunner                 # or SparkRunner: that runner's launcher
#   runners/benchmark.sh --mode=rush                          # 10,000 x 10 and 2,000 x 500 at once (--rush=CxS,...)
#   runners/benchmark.sh --mode=rush --peer                   # ... then the plain Structured Streaming job (src/test/peer) on the same
#   runners/benchmark.sh --mode=latency                       # 30 x 1,000 alone, then behind 1,000,000; where the slowest waited
#   runners/benchmark.sh --mode=idle                          # CPU while idle
#   runners/benchmark.sh --mode=scale --subscribers=10000000  # both subscriber modes: heap, reads, latency, checkpoints
#   runners/benchmark.sh --mode=restart                       # a restart after 10,000 campaigns: time, rows read
#   runners/benchmark.sh --mode=startup                       # release archive vs runners/direct.sh: to /health/ready
#   JDBC_PASSWORD=... runners/benchmark.sh --bootstrapServers=broker:9092 \
#     --jdbcUrl=jdbc:postgresql://db:5432/bench --jdbcUser=bench   # given servers, empty tables
#
# SERVICE_JAVA_OPTS sets the service's JVM flags (default -Xmx4g); JAVA_OPTS the benchmark's own.
# Prints a table and one "BENCHMARK {json}" line.
set -euo pipefail
cd "$(dirname "$0")/.."
source runners/lib.sh
cp_file=target/classpath-benchmark.txt
mvn -q -B -Dembedded.scope=compile test-compile dependency:build-classpath \
  -Dmdep.outputFile="$cp_file" -DincludeScope=test >&2
# shellcheck disable=SC2086
exec java $JAVA_OPENS ${JAVA_OPTS:--Xmx3g} -cp "target/test-classes:target/classes:$(cat "$cp_file")" \
  dev.campaignnotifier.bench.Benchmark "$@"
