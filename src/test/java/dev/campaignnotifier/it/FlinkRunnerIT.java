package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.local.Ports;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The runner contract on Flink's embedded local cluster (a MiniCluster in this JVM). */
class FlinkRunnerIT extends RunnerContract {
  @Override
  String[] runnerArgs() {
    return new String[] {
      "--runner=FlinkRunner",
      "--fanOutSlicesPerTurn=4",
      "--flinkMaster=[local]",
      "--parallelism=2",
      "--attachedMode=false",
      "--checkpointingInterval=2000"
    };
  }

  /** Snapshot mode's late subscribers: DirectRunnerIT and SparkRunnerSnapshotIT. */
  @Override
  boolean coversLateSubscribers() {
    return false;
  }

  /**
   * The launcher's Flink configuration (runners/flink-conf) with the reporter on a free port: the
   * pipeline's sink counter is scraped from Flink's Prometheus reporter, one series per subtask.
   */
  @Test
  void flinksPrometheusReporterServesTheSinkCounters() throws Exception {
    int port = Ports.free();
    Path conf = LocalServers.tempDir("flink-conf");
    Files.writeString(
        conf.resolve("flink-conf.yaml"),
        Files.readString(Path.of("runners/flink-conf/flink-conf.yaml"))
            .replace("metrics.reporter.prom.port: 9249", "metrics.reporter.prom.port: " + port));
    List<String> args = new ArrayList<>(List.of(runnerArgs()));
    args.add("--flinkConfDir=" + conf);
    try (RunningPipeline service = RunningPipeline.start(true, args.toArray(String[]::new))) {
      service.publish(
          "k", Samples.campaignJson("sample", Samples.RESTAURANT, now() - 10, now() + 3600));
      Await.until("9 rows", WAIT, () -> service.feedbackRows() >= 9);
      Await.until(
          "the reporter's sink counters at 9",
          WAIT,
          () ->
              sum(port, "flink_taskmanager_job_task_operator_sinks_feedbackRowsToPostgres") == 9
                  && sum(port, "flink_taskmanager_job_task_operator_sinks_notificationsToKafka")
                      == 9);
      assertEquals(1, sum(port, "flink_taskmanager_job_task_operator_campaigns_received"));
    }
  }

  /** The sum of a metric's series on Flink's reporter; -1 if it does not answer. */
  private static long sum(int port, String metric) {
    try {
      String body =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/")).build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      return Math.round(
          body.lines()
              .filter(l -> l.startsWith(metric + "{"))
              .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
              .sum());
    } catch (Exception e) {
      return -1;
    }
  }

  /** Campaign updates on this runner: {@code lookup} mode's class. */
  @Override
  boolean coversUpdates() {
    return false;
  }
}
