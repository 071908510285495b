package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.local.Ports;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/**
 * The Spark service in a JVM of its own, as {@code runners/spark-local.sh} starts it: what only a
 * separate driver process shows (its /metrics, its SIGTERM, a restart on the same checkpoint
 * directory). Once, not per subscriber mode: the contract classes cover the modes.
 */
class SparkLauncherIT {
  private static final Duration WAIT = Duration.ofMinutes(2);

  private static long now() {
    return Instant.now().getEpochSecond();
  }

  /**
   * The service started as spark-local.sh starts it: the driver (this process) holds the pipeline's
   * handle, so its own /metrics serves the Beam metrics, summed over the executors by Spark, under
   * the same names as on the DirectRunner, and the lag of its micro-batches.
   */
  @Test
  void theDriversEndpointServesTheSinkCountersUnderTheSameNames() throws Exception {
    CampaignNotifierOptions o = ServiceClient.options(true);
    ServiceClient client = new ServiceClient(o);
    int port = Ports.free();
    List<String> args = new ArrayList<>(List.of(SparkRunnerIT.sparkArgs()));
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
      // The driver's micro-batch lag (SparkMicroBatches), which Spark's own figures do not give.
      assertTrue(scraped.contains("\nspark_microBatchLagSeconds "), scraped);
      Await.until(
          "ready",
          WAIT,
          () -> ClusterKit.httpGet("http://localhost:" + port + "/health/ready").equals("ready\n"));
    }
  }

  /**
   * Late subscribers with the service in its own JVM, as {@code runners/spark-local.sh} starts it
   * (its options read from the script), across a stop and a start from the same checkpoint
   * directory: one late subscriber notified before the stop, one after the restart, each once in
   * both sinks, and the campaign's first nine never again.
   */
  @Test
  void lateSubscribersInTheLaunchersJvmAcrossARestartFromItsCheckpointDirectory() throws Exception {
    CampaignNotifierOptions o = ServiceClient.options(true);
    ServiceClient client = new ServiceClient(o);
    List<String> args =
        new ArrayList<>(
            ClusterKit.launcherArgs("spark-local.sh", LocalServers.tempDir("spark-checkpoint")));
    args.addAll(ServiceClient.serviceArgs(o, o.getJdbcUrl()));
    List<String> command = ClusterKit.serviceCommand(args);
    long end = now() + 600;
    try (ServiceProcess service = ServiceProcess.exec(command, Map.of(), "spark-late")) {
      client.publish("k", Samples.campaignJson("lunch", Samples.RESTAURANT, now() - 10, end));
      Await.until(
          "the fan-out", WAIT, () -> service.alive("the service") && client.rowsOf("lunch") == 9);
      lateSubscriber(client, "before-stop", () -> service.alive("the service"), 10);
      assertEquals(143, service.stop(), "stopped by SIGTERM (128 + 15), within stop()'s 60 s");
    }
    try (ServiceProcess again = ServiceProcess.exec(command, Map.of(), "spark-late-again")) {
      // Subscribed while the service starts: the watcher starts where the last run got to.
      lateSubscriber(client, "after-restart", () -> again.alive("the restarted service"), 11);
      Map<String, Integer> messages = client.notificationsByKey();
      assertEquals(11, messages.keySet().stream().filter(k -> k.startsWith("lunch:")).count());
      assertEquals(0, messages.values().stream().filter(n -> n > 1).count(), "a message twice");
      assertEquals(11, client.rowsOf("lunch"));
    }
  }

  /**
   * What a restaurant or a client takes back stays taken back ({@link RunnerContract#takenBack}),
   * with the service in its own JVM as {@code runners/spark-local.sh} starts it (its default,
   * lookup mode). Snapshot mode differs only in where the fan-out reads the subscribers; the scenes
   * run in it in the DirectRunner's own JVM ({@code TakenBackIT}).
   */
  @Test
  void whatIsTakenBackStaysTakenBackInTheLaunchersJvm() throws Exception {
    for (String mode : List.of("lookup")) {
      CampaignNotifierOptions o = ServiceClient.options(true);
      ServiceClient client = new ServiceClient(o);
      List<String> args =
          new ArrayList<>(
              ClusterKit.launcherArgs("spark-local.sh", LocalServers.tempDir("spark-checkpoint")));
      args.add("--subscribers=" + mode);
      args.addAll(ServiceClient.serviceArgs(o, o.getJdbcUrl()));
      try (ServiceProcess service =
          ServiceProcess.serve(ClusterKit.serviceCommand(args), "spark-taken-" + mode)) {
        Await.until("ready", WAIT, service::ready);
        // Not the removal before the late step: it holds the delivery with a lock on the ledger,
        // and on Spark the held delivery holds its micro-batch.
        RunnerContract.takenBack(client, false);
      }
    }
  }

  /**
   * Subscribes {@code client} to the campaign's restaurant and waits for its row and message; the
   * time printed runs from the insert (after a restart, the start-up is part of it).
   */
  private static void lateSubscriber(
      ServiceClient client, String name, BooleanSupplier alive, int rows) {
    client.execute(
        "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id) VALUES ('"
            + name
            + "', '"
            + Samples.RESTAURANT
            + "')");
    long inserted = System.nanoTime();
    Await.until(
        name + " notified", WAIT, () -> alive.getAsBoolean() && client.rowsOf("lunch") == rows);
    System.out.printf(
        "late subscriber in the launcher's JVM, %s: notified %.1f s after the insert%n",
        name, (System.nanoTime() - inserted) / 1e9);
    Await.until(
        name + "'s message", WAIT, () -> client.notificationsByKey().containsKey("lunch:" + name));
  }
}
