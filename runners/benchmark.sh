#!/usr/bin/env bash
# The benchmark (see README, "Performance"): embedded Kafka and PostgreSQL, the service on the
# chosen runner in this JVM, one campaign to N subscribers measured against the sink floor.
#
#   runners/benchmark.sh --subscribers=200000                        # DirectRunner, fan-out mode
#   runners/benchmark.sh --subscribers=1000000 --runner=FlinkRunner
#   runners/benchmark.sh --mode=latency                              # 30 x 1,000 subscribers
#   runners/benchmark.sh --mode=scale --subscribers=10000000         # snapshot load and heap
#
# JAVA_OPTS sets the heap (default -Xmx6g); SPARK_BATCH replaces the Spark batch options (default
# --batchIntervalMillis=500). Prints a table and one "BENCHMARK {json}" line.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
export MAIN_CLASS=dev.campaignnotifier.bench.Benchmark
export JAVA_OPTS=${JAVA_OPTS:--Xmx6g}
case " $* " in
  *" --runner=SparkRunner "*)
    run_local spark-runner test --sparkMaster='local[*]' ${SPARK_BATCH:---batchIntervalMillis=500} \
      --checkpointDir="$(mktemp -d)" "$@" ;;
  *" --runner=FlinkRunner "*)
    run_local flink-runner runtime --flinkMaster='[local]' --fasterCopy=true \
      --attachedMode=false "$@" ;;
  *)
    run_local direct-runner runtime --runner=DirectRunner --enforceImmutability=false \
      --enforceEncodability=false "$@" ;;
esac
