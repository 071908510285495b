package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.local.Ports;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The Spark bundle on a real Spark standalone cluster: a master and two workers from Spark's jars
 * on Maven Central (a SPARK_HOME of our own, on loopback), the bundle built with {@code mvn
 * -Pspark-runner package} and submitted with SparkSubmit (what {@code spark-submit} runs), client
 * deploy mode. The fan-out and both sinks run in executors the workers started, the late
 * subscribers in the driver. Both workers deliver a share of a big campaign and of a rush, and a
 * driver killed with {@code kill -9} mid rush and submitted again leaves every campaign delivered
 * once.
 */
@Tag("slow")
class SparkClusterIT {
  private static final Duration WAIT = Duration.ofMinutes(4);

  /** "Delivery worker 3fa2c1 (thread): 3 slices, 1500 notifications since start" (WorkerTally). */
  private static final Pattern TALLY =
      Pattern.compile("Delivery worker (\\w+) .*: \\d+ slices, (\\d+) notifications since start");

  @Test
  void bundleOnTwoWorkersSharesTheWorkAndSurvivesADriverKilledMidRush() throws Exception {
    Path bundle = ClusterKit.bundle("spark-runner");
    Path jars = ClusterKit.engineJars("spark");
    Path home = jars.getParent();
    List<Path> workDirs =
        List.of(
            Files.createDirectories(home.resolve("work-" + System.nanoTime())),
            Files.createDirectories(home.resolve("work-" + System.nanoTime())));
    String classpath = jars + "/*";
    int masterPort = Ports.free();
    int masterUi = Ports.free();
    String masterUrl = "spark://127.0.0.1:" + masterPort;
    // What sbin/start-master.sh and the worker's executor launcher read from the environment.
    Map<String, String> env =
        Map.of(
            "SPARK_HOME",
            home.toString(),
            "SPARK_SCALA_VERSION",
            "2.12",
            "SPARK_LOCAL_IP",
            "127.0.0.1");

    CampaignNotifierOptions options = ServiceClient.options(true);
    ServiceClient client = new ServiceClient(options);
    List<String> submit =
        new ArrayList<>(sparkJvm(classpath, "org.apache.spark.deploy.SparkSubmit"));
    submit.addAll(
        List.of(
            "--master",
            masterUrl,
            "--deploy-mode",
            "client",
            "--class",
            "dev.campaignnotifier.CampaignNotifier",
            "--conf",
            "spark.executor.memory=1g",
            "--conf",
            "spark.ui.enabled=false",
            // As runners/spark-cluster.sh: tasks to any free executor, not after 3 s of waiting.
            "--conf",
            "spark.locality.wait=0",
            bundle.toString(),
            "--runner=SparkRunner",
            "--batchIntervalMillis=500",
            "--checkpointDir=" + LocalServers.tempDir("spark-cluster-checkpoint").toUri()));
    submit.addAll(ServiceClient.serviceArgs(options, options.getJdbcUrl()));

    try (ServiceProcess master =
            ServiceProcess.exec(
                sparkJvm(
                    classpath,
                    "org.apache.spark.deploy.master.Master",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    String.valueOf(masterPort),
                    "--webui-port",
                    String.valueOf(masterUi)),
                env,
                "spark-master");
        ServiceProcess first =
            worker(classpath, env, workDirs.get(0), masterUrl, "spark-worker-1");
        ServiceProcess second =
            worker(classpath, env, workDirs.get(1), masterUrl, "spark-worker-2")) {
      Await.until(
          "two workers registered with the master",
          WAIT,
          () ->
              master.alive("the master")
                  && first.alive("the first worker")
                  && second.alive("the second worker")
                  && masterState(masterUi).contains("\"aliveworkers\" : 2"),
          () -> "\nmaster:\n" + master.log() + "\nworkers:\n" + first.log() + second.log());

      int big = 100_000;
      int campaigns = 1_000;
      int perCampaign = 100;
      client.insertSubscribers("big", big);
      client.insertRushSubscribers(campaigns, perCampaign);
      long total = 10 + big + (long) campaigns * perCampaign;
      Map<Path, Long> beforeBig;
      Map<Path, Long> afterBig;
      try (ServiceProcess driver = ServiceProcess.exec(submit, env, "spark-driver")) {
        Supplier<String> logs =
            () -> "\ndriver:\n" + driver.log() + "\nexecutors:\n" + executorLogs(workDirs);
        ClusterKit.sampleRoundTrip(client, () -> driver.alive("the driver"), logs);
        ClusterKit.lateSubscriberOfTheSample(client, () -> driver.alive("the driver"), logs);
        String state = masterState(masterUi);
        assertTrue(
            state.matches("(?s).*\"activeapps\" : \\[ \\{.*\"cores\" : 2.*"),
            "the application was granted both workers' cores:\n" + state);

        // A big campaign: its slices are spread over both workers' executors.
        beforeBig = deliveredByWorker(workDirs);
        long now = Instant.now().getEpochSecond();
        client.publish("big", Samples.campaignJson("big", "big", now - 10, now + 3600));
        Await.until(
            "the big campaign's rows",
            WAIT,
            () -> driver.alive("the driver") && client.rowsOf("big") >= big,
            logs);
        // An executor's tally is logged when its task ends, just after the rows commit.
        Await.until(
            "both workers' tallies of the big campaign",
            Duration.ofSeconds(30),
            () -> sum(since(beforeBig, deliveredByWorker(workDirs))) >= big);
        afterBig = deliveredByWorker(workDirs);
        Map<Path, Long> share = since(beforeBig, afterBig);
        System.out.println("the big campaign's notifications by worker: " + share.values());
        share.forEach(
            (dir, n) -> assertTrue(n > 0, "a worker delivered none of the big campaign: " + share));

        // The rush, and the driver killed with a tenth of it written.
        client.publishAll(client.rushCampaigns(campaigns, now));
        long rushRows = (long) campaigns * perCampaign;
        Await.until(
            "a tenth of the rush",
            WAIT,
            () -> client.feedbackRows() >= 10 + big + rushRows / 10,
            logs);
        driver.kill();
      }
      long atKill = client.feedbackRows();
      System.out.println("driver killed with " + atKill + " of " + total + " rows written");
      assertTrue(atKill < total, "the rush was delivered before the kill: the test proves nothing");
      // The master lets the killed application's cores go before the new one asks for them: a
      // submission meanwhile was granted one worker (seen once: the rush all on one worker).
      Await.until(
          "the killed driver's application ended on the master",
          WAIT,
          () -> masterState(masterUi).matches("(?s).*\"activeapps\" : \\[\\s*\\].*"));

      try (ServiceProcess driver = ServiceProcess.exec(submit, env, "spark-driver-again")) {
        Supplier<String> logs =
            () -> "\ndriver:\n" + driver.log() + "\nexecutors:\n" + executorLogs(workDirs);
        Await.until(
            "the new application granted both workers' cores",
            WAIT,
            () ->
                driver.alive("the driver")
                    && masterState(masterUi)
                        .matches("(?s).*\"activeapps\" : \\[ \\{[^\\]]*?\"cores\" : 2\\b.*"),
            logs);
        Await.until(
            "every campaign of the rush in full",
            WAIT,
            () -> driver.alive("the driver") && client.feedbackRows() >= total,
            () -> ", got " + client.feedbackRows() + logs.get());
        Await.until("every message", WAIT, () -> client.notificationsByKey().size() >= total);
        assertEquals(
            0,
            client.rushCampaignsShort(perCampaign),
            "campaigns with other than " + perCampaign + " rows");
        long duplicates =
            client.assertDeliveredOnce("driver kill -9 mid rush, on a cluster", total);
        assertTrue(
            duplicates <= ServiceClient.RUSH_PARCELS_IN_FLIGHT,
            duplicates + " duplicate messages: more than the parcels in flight hold");
        // An executor's tally is logged every 5 s while it delivers and when its task ends.
        Await.until(
            "both workers' tallies of the rush",
            Duration.ofSeconds(30),
            () ->
                since(afterBig, deliveredByWorker(workDirs)).values().stream().allMatch(n -> n > 0),
            () -> ": " + since(afterBig, deliveredByWorker(workDirs)));
        Map<Path, Long> rush = since(afterBig, deliveredByWorker(workDirs));
        System.out.println("the rush's notifications by worker: " + rush.values());
        rush.forEach((dir, n) -> assertTrue(n > 0, "a worker delivered none of the rush: " + rush));
      }
    }
  }

  private static ServiceProcess worker(
      String classpath, Map<String, String> env, Path workDir, String masterUrl, String name)
      throws IOException {
    return ServiceProcess.exec(
        sparkJvm(
            classpath,
            "org.apache.spark.deploy.worker.Worker",
            "--host",
            "127.0.0.1",
            "--webui-port",
            String.valueOf(Ports.free()),
            "--cores",
            "1",
            "--memory",
            "1500m",
            "--work-dir",
            workDir.toString(),
            masterUrl),
        env,
        name);
  }

  /**
   * Notifications each worker's executors have delivered: per delivery tally (one per task's copy
   * of the step), its last count, summed over the worker's executors' logs.
   */
  private static Map<Path, Long> deliveredByWorker(List<Path> workDirs) {
    Map<Path, Long> delivered = new LinkedHashMap<>();
    for (Path dir : workDirs) {
      Map<String, Long> tallies = new HashMap<>();
      Matcher m = TALLY.matcher(executorLogs(List.of(dir)));
      while (m.find()) {
        tallies.merge(m.group(1), Long.parseLong(m.group(2)), Math::max);
      }
      delivered.put(dir, tallies.values().stream().mapToLong(Long::longValue).sum());
    }
    return delivered;
  }

  private static Map<Path, Long> since(Map<Path, Long> before, Map<Path, Long> after) {
    Map<Path, Long> delta = new LinkedHashMap<>();
    after.forEach((dir, n) -> delta.put(dir, n - before.getOrDefault(dir, 0L)));
    return delta;
  }

  private static long sum(Map<Path, Long> byWorker) {
    return byWorker.values().stream().mapToLong(Long::longValue).sum();
  }

  private static List<String> sparkJvm(String classpath, String mainClass, String... args) {
    return ClusterKit.javaCommand(classpath, "1g", List.of(), mainClass, List.of(args));
  }

  /** The standalone master's state, from its web UI's JSON endpoint. */
  private static String masterState(int uiPort) {
    return ClusterKit.httpGet("http://127.0.0.1:" + uiPort + "/json/");
  }

  /** Everything the workers' executors wrote to stderr (work-dir/app-id/executor-id/stderr). */
  private static String executorLogs(List<Path> workDirs) {
    StringBuilder all = new StringBuilder();
    for (Path workDir : workDirs) {
      try (Stream<Path> files = Files.walk(workDir)) {
        for (Path f : (Iterable<Path>) files.filter(p -> p.endsWith("stderr"))::iterator) {
          all.append(Files.readString(f));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return all.toString();
  }
}
