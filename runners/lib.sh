# Shared by the local launchers: builds the classes and the classpath for one runner profile with
# Maven, then runs the service in a plain JVM (so Ctrl-C reaches it, and the JVM flags are ours).
# Usage: run_local <maven profile> <dependency scope> <service options...>

# Spark 3.5 and Flink 1.19 reflect into the JDK; Java 17 needs these packages opened. The same
# list is in .mvn/jvm.config and runners/spark-cluster.sh.
JAVA_OPENS="--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED"

run_local() {
  local profile=$1 scope=$2
  shift 2
  cd "$(dirname "${BASH_SOURCE[0]}")/.."
  local cp_file="target/classpath-$profile.txt"
  # The local launchers always carry the embedded servers (the cluster bundles leave them out).
  mvn -q -B -P"$profile" -Dembedded.scope=compile compile dependency:build-classpath \
    -Dmdep.outputFile="$cp_file" -Dmdep.includeScope="$scope" >&2
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

# The launcher's subscriber mode unless the arguments choose one.
default_subscribers() {
  local mode=$1
  shift
  default_option subscribers "$mode" "$@"
}
