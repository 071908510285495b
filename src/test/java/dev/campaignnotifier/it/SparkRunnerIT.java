package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.local.Ports;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import dev.campaignnotifier.subscribers.SubscriberMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The runner contract on Spark's local master (micro-batches in this JVM), subscribers looked up
 * per campaign, as the Spark launchers do by default.
 */
class SparkRunnerIT extends RunnerContract {
  @Override
  SubscriberMode mode() {
    return SubscriberMode.lookup;
  }

  /** Beam 2.70's Spark runner cannot run it (apache/beam#39822; docs/runners.md). */
  @Override
  boolean notifiesLateSubscribers() {
    return false;
  }

  @Override
  String[] runnerArgs() {
    return sparkArgs();
  }

  /** Spark's local master with two cores and 500 ms micro-batches, and {@code more}. */
  static String[] sparkArgs(String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--runner=SparkRunner",
                "--sparkMaster=local[2]",
                "--batchIntervalMillis=500",
                "--checkpointDir=" + LocalServers.tempDir("spark-checkpoint").toUri()));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  /**
   * The service started as spark-local.sh starts it: the driver (this process) holds the pipeline's
   * handle, so its own /metrics serves the Beam metrics, summed over the executors by Spark, under
   * the same names as on the DirectRunner.
   */
  @Test
  void theDriversEndpointServesTheSinkCountersUnderTheSameNames() throws Exception {
    CampaignNotifierOptions o = ServiceClient.options(true);
    ServiceClient client = new ServiceClient(o);
    int port = Ports.free();
    List<String> args = new ArrayList<>(List.of(runnerArgs()));
    args.add("--subscribers=lookup");
    ServiceClient.serviceArgs(o, o.getJdbcUrl()).stream()
        .filter(a -> !a.startsWith("--metricsPort="))
        .forEach(args::add);
    args.add("--metricsPort=" + port);
    List<String> command = ClusterKit.serviceCommand(args);
    try (ServiceProcess service = ServiceProcess.exec(command, Map.of(), "spark-metrics")) {
      String metrics = "http://localhost:" + port + "/metrics";
      ClusterKit.sampleRoundTrip(client, () -> service.alive("the service"), service::log);
      Await.until(
          "the sink counters at 9 on the driver's /metrics",
          WAIT,
          () -> {
            List<String> lines = ClusterKit.httpGet(metrics).lines().toList();
            return lines.contains("sinks_feedbackRowsToPostgres_total 9.0")
                && lines.contains("sinks_notificationsToKafka_total 9.0");
          });
      String scraped = ClusterKit.httpGet(metrics);
      assertTrue(scraped.contains("\ndeadLetters_total{reason=\"NOT_JSON\"} 1.0\n"), scraped);
      Await.until(
          "ready",
          WAIT,
          () -> ClusterKit.httpGet("http://localhost:" + port + "/health/ready").equals("ready\n"));
    }
  }
}
