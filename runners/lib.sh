# Shared by the local launchers: builds the classes and the classpath for one runner profile with
# Maven, then runs the service in a plain JVM (so Ctrl-C reaches it, and the JVM flags are ours).
# Usage: run_local <maven profile> <service options...>

# Spark 3.5 and Flink 1.19 reflect into the JDK; Java 17 needs these packages opened. The one copy
# of the list is .mvn/jvm.config (Maven's own JVM reads it; the pom, spark-cluster.sh and the tests
# read it from there).
JAVA_OPENS=$(cat "$(dirname "${BASH_SOURCE[0]}")/../.mvn/jvm.config")

run_local() {
  local profile=$1
  shift
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  local cp_file="target/classpath-$profile.txt"
  # The runtime classpath of that profile: its runner only, no other runner, no test library. The
  # local launchers always carry the embedded servers (the cluster bundles leave them out); the
  # Spark launcher carries Spark itself too (a Spark cluster provides it, so the build marks it
  # provided).
  # Spark is provided (on the compile class path for runner/SparkMicroBatches, in no runtime one)
  # except on the Spark launcher, whose JVM runs it.
  local spark_scope=provided
  [ "$profile" = spark-runner ] && spark_scope=compile
  mvn -q -B -P"$profile" -Dembedded.scope=compile -Dspark.scope="$spark_scope" compile \
    dependency:build-classpath -Dmdep.outputFile="$cp_file" -DincludeScope=runtime >&2
  # shellcheck disable=SC2086
  exec java $JAVA_OPENS ${JAVA_OPTS:-} -cp "target/classes:$(cat "$cp_file")" \
    "${MAIN_CLASS:-dev.campaignnotifier.CampaignNotifier}" "$@"
}

# Spark's own metrics in Prometheus format on the driver's UI: /metrics/prometheus/ (driver,
# streaming batches) and /metrics/executors/prometheus. Beam's metric set is left out of Spark's
# metrics system (--enableSparkMetricSinks=false, see spark_metric_options): Spark's servlet prints
# it as a Java map, which no Prometheus can parse; the service's own /metrics serves it instead.
SPARK_PROMETHEUS_CONF=(
  "spark.ui.prometheus.enabled=true"
  "spark.metrics.conf.*.sink.prometheusServlet.class=org.apache.spark.metrics.sink.PrometheusServlet"
  "spark.metrics.conf.*.sink.prometheusServlet.path=/metrics/prometheus"
)

# Prints "--<name>=<value>" unless the arguments after it already give --<name>: a launcher's
# default that the user's own option overrides (Beam refuses an option given twice).
default_option() {
  local name=$1 value=$2
  shift 2
  case " $* " in
    *" --$name="*) ;;
    *) echo "--$name=$value" ;;
  esac
}
