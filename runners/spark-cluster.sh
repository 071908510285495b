#!/usr/bin/env bash
# Submits campaign-notifier to a Spark 3.5 (Scala 2.12) cluster with spark-submit.
#
#   SPARK_MASTER=spark://master:7077 CHECKPOINT_DIR=hdfs:///campaign-notifier/checkpoint \
#     runners/spark-cluster.sh --bootstrapServers=broker:9092 --jdbcUrl=jdbc:postgresql://db:5432/de
#
# Needs spark-submit on PATH (or SPARK_HOME), a checkpoint directory every node can reach, and the
# servers' addresses (a cluster never starts the embedded ones). The JDBC password is read on the
# driver and the executors from $JDBC_PASSWORD (set it in spark-env.sh) or --jdbcPasswordFile (a
# path present on every node). Builds the bundle (target/*-spark.jar) first if it is missing.
# Subscribers are looked up per campaign unless --subscribers=snapshot is given (the service's
# RunnerProfile; docs/runners.md).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
: "${SPARK_MASTER:?set SPARK_MASTER, e.g. spark://master:7077}"
: "${CHECKPOINT_DIR:?set CHECKPOINT_DIR to a directory every Spark node can reach}"
SUBMIT=${SPARK_HOME:+$SPARK_HOME/bin/}spark-submit
JAR=$(ls target/campaign-notifier-*-spark.jar 2>/dev/null | head -1 || true)
if [ -z "$JAR" ]; then
  mvn -q -B -Pspark-runner package -DskipTests
  JAR=$(ls target/campaign-notifier-*-spark.jar | head -1)
fi
OPENS=$JAVA_OPENS
PROMETHEUS=()
for conf in "${SPARK_PROMETHEUS_CONF[@]}"; do
  PROMETHEUS+=(--conf "$conf")
done
# spark.locality.wait=0: a micro-batch's task goes to any free executor at once instead of waiting
# up to 3 s for the one that holds its input (small shuffles; SparkClusterIT once saw a whole rush
# on one of two workers).
# shellcheck disable=SC2046
exec "$SUBMIT" --master "$SPARK_MASTER" --deploy-mode client \
  --class dev.campaignnotifier.CampaignNotifier \
  --conf spark.locality.wait=0 \
  --conf "spark.driver.extraJavaOptions=$OPENS" \
  --conf "spark.executor.extraJavaOptions=$OPENS" \
  "${PROMETHEUS[@]}" \
  "$JAR" --runner=SparkRunner --checkpointDir="$CHECKPOINT_DIR" "$@"
