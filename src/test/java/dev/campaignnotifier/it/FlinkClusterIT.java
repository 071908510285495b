package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.campaignnotifier.Samples;
import dev.campaignnotifier.local.Ports;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The Flink bundle on a real Flink session cluster: a JobManager and a TaskManager from Flink's
 * module jars on Maven Central (flink-dist itself is not published there), on loopback, the bundle
 * built with {@code mvn -Pflink-runner package} and submitted with CliFrontend (what {@code flink
 * run} runs). Also stops a job in the middle of a lunch rush and restores it from its retained
 * checkpoint.
 */
@Tag("slow")
class FlinkClusterIT {
  private static final Duration WAIT = Duration.ofMinutes(4);
  private static final ObjectMapper JSON = new ObjectMapper();

  private static Path bundle;
  private static String classpath;
  private static Path conf;
  private static Path checkpoints;
  private static int restPort;
  private static ServiceProcess jobManager;
  private static ServiceProcess taskManager;

  @BeforeAll
  static void startCluster() throws Exception {
    bundle = ClusterKit.bundle("flink-runner");
    Path lib = ClusterKit.engineJars("flink");
    classpath = lib + "/*";
    Path home = lib.getParent();
    conf = Files.createDirectories(home.resolve("conf-" + System.nanoTime()));
    checkpoints = Files.createDirectories(home.resolve("checkpoints-" + System.nanoTime()));
    restPort = Ports.free();
    // What bin/taskmanager.sh would compute from taskmanager.memory.process.size, spelled out:
    // the daemons are started without Flink's scripts.
    Files.writeString(
        conf.resolve("flink-conf.yaml"),
        String.join(
            "\n",
            "jobmanager.rpc.address: 127.0.0.1",
            "jobmanager.rpc.port: " + Ports.free(),
            "jobmanager.bind-host: 127.0.0.1",
            "rest.address: 127.0.0.1",
            "rest.bind-address: 127.0.0.1",
            "rest.port: " + restPort,
            "taskmanager.host: 127.0.0.1",
            "taskmanager.bind-host: 127.0.0.1",
            "taskmanager.numberOfTaskSlots: 2",
            "parallelism.default: 1",
            "taskmanager.cpu.cores: 2",
            "taskmanager.memory.framework.heap.size: 128m",
            "taskmanager.memory.framework.off-heap.size: 128m",
            "taskmanager.memory.task.heap.size: 896m",
            "taskmanager.memory.task.off-heap.size: 0m",
            "taskmanager.memory.network.min: 64m",
            "taskmanager.memory.network.max: 64m",
            "taskmanager.memory.managed.size: 128m",
            "taskmanager.memory.jvm-metaspace.size: 256m",
            "taskmanager.memory.jvm-overhead.min: 192m",
            "taskmanager.memory.jvm-overhead.max: 192m",
            "state.checkpoints.dir: " + checkpoints.toUri(),
            ""));
    Files.writeString(
        conf.resolve("log4j.properties"),
        String.join(
            "\n",
            "rootLogger.level = INFO",
            "rootLogger.appenderRef.console.ref = console",
            "appender.console.name = console",
            "appender.console.type = CONSOLE",
            "appender.console.layout.type = PatternLayout",
            "appender.console.layout.pattern = %d{HH:mm:ss,SSS} %-5p %c{1} - %m%n",
            ""));
    jobManager =
        flink(
            "flink-jobmanager",
            "1g",
            "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
            "--configDir",
            conf.toString());
    taskManager =
        flink(
            "flink-taskmanager",
            "1100m",
            "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
            "--configDir",
            conf.toString());
    Await.until(
        "a TaskManager registered with the JobManager",
        WAIT,
        () ->
            jobManager.alive("the JobManager")
                && taskManager.alive("the TaskManager")
                && rest("/overview").path("taskmanagers").asInt() == 1);
  }

  @AfterAll
  static void stopCluster() throws InterruptedException {
    if (taskManager != null) {
      taskManager.kill();
    }
    if (jobManager != null) {
      jobManager.kill();
    }
  }

  @Test
  void bundleSubmittedToSessionClusterDoesTheRoundTrip() throws Exception {
    CampaignNotifierOptions options = ServiceClient.options(true);
    ServiceClient client = new ServiceClient(options);
    String job = submit(options, null);
    try {
      ClusterKit.sampleRoundTrip(
          client, () -> true, () -> "\ntaskmanager:\n" + tail(taskManager.log()));
      // The session cluster's own metrics: the job's steps passed records between them, which
      // only its TaskManager runs (the client returned once it had submitted the job).
      Await.until(
          "records counted by the session cluster",
          WAIT,
          () -> recordsWritten(job) > 0,
          () -> "\n" + rest("/jobs/" + job).path("vertices"));
    } finally {
      cancel(job);
    }
  }

  /**
   * A lunch rush (2,000 campaigns of 500 subscribers) published together with a 50,000-subscriber
   * campaign and one held for a start 90 s ahead; the job is cancelled with part of them written
   * and restored from its last retained checkpoint. The restored job delivers every campaign in
   * full with no duplicate row, picks up a campaign published while it was stopped, and duplicates
   * no more messages than the parcels that can be in flight (as after a kill -9 on the
   * DirectRunner, {@code CrashRecoveryIT}).
   */
  @Test
  void jobStoppedMidRushAndRestoredFromItsCheckpointLosesNothingAndDuplicatesNoRow()
      throws Exception {
    CampaignNotifierOptions options = ServiceClient.options(false);
    ServiceClient client = new ServiceClient(options);
    int big = 50_000;
    int campaigns = 2_000;
    int perCampaign = 500;
    int total = big + campaigns * perCampaign + 1_000 + 1_000;
    client.insertSubscribers("big", big);
    client.insertRushSubscribers(campaigns, perCampaign);
    client.execute(
        "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
            + " SELECT 'late-' || g, 'small' FROM generate_series(1, 1000) g");
    long now = Instant.now().getEpochSecond();
    List<ProducerRecord<byte[], byte[]>> rush = new ArrayList<>();
    rush.add(
        new ProducerRecord<>(
            options.getInputTopic(),
            "big".getBytes(StandardCharsets.UTF_8),
            Samples.campaignJson("big-campaign", "big", now - 10, now + 3600)
                .getBytes(StandardCharsets.UTF_8)));
    rush.addAll(client.rushCampaigns(campaigns, now));
    // Held across the stop (in the checkpoint, or read again after it): out at its start.
    long heldStart = now + 90;
    rush.add(
        new ProducerRecord<>(
            options.getInputTopic(),
            "held".getBytes(StandardCharsets.UTF_8),
            Samples.campaignJson("held", "small", heldStart, heldStart + 3600)
                .getBytes(StandardCharsets.UTF_8)));

    String first = submit(options, null);
    Await.until(
        "a completed checkpoint",
        WAIT,
        () -> rest("/jobs/" + first + "/checkpoints").path("counts").path("completed").asInt() > 0);
    client.publishAll(rush);
    Await.until("a tenth of the rush", WAIT, () -> client.feedbackRows() >= total / 10);
    cancel(first);
    long atStop = client.feedbackRows();
    long doneAtStop =
        client.count(
            "SELECT count(DISTINCT adv_campaign_id) FROM public.campaign_slices"
                + " WHERE of_slices > 0");
    System.out.println(
        "stopped with "
            + atStop
            + " of "
            + total
            + " rows ("
            + client.rowsOf("big-campaign")
            + " of the big campaign), "
            + doneAtStop
            + " campaigns done");
    assertTrue(atStop < total, "the rush was delivered before the stop: the test proves nothing");
    String checkpoint =
        rest("/jobs/" + first + "/checkpoints")
            .path("latest")
            .path("completed")
            .path("external_path")
            .asText();
    assertTrue(checkpoint.startsWith("file:"), "a retained checkpoint: " + checkpoint);

    // Published while the job is stopped: the restored job must pick it up.
    client.publish("k", Samples.campaignJson("while-stopped", "small", now - 10, now + 3600));
    String second = submit(options, checkpoint);
    try {
      Await.until(
          "every row of every campaign",
          WAIT,
          () -> client.feedbackRows() >= total,
          () -> ", got " + client.feedbackRows() + "\n" + tail(taskManager.log()));
      Await.until("every message", WAIT, () -> client.notificationsByKey().size() >= total);
      long duplicates =
          client.assertDeliveredOnce("Flink stop mid rush and restore from " + checkpoint, total);
      assertEquals(big, client.rowsOf("big-campaign"));
      assertEquals(1000, client.rowsOf("while-stopped"));
      assertEquals(1000, client.rowsOf("held"));
      assertTrue(
          client.count(
                  "SELECT min(trigger_datetime_created) FROM public.subscribers_feedback"
                      + " WHERE adv_campaign_id = 'held'")
              >= heldStart,
          "the held campaign went out at its start, not before");
      assertEquals(
          0,
          client.rushCampaignsShort(perCampaign),
          "rush campaigns with other than " + perCampaign + " rows");
      assertTrue(
          duplicates <= ServiceClient.RUSH_PARCELS_IN_FLIGHT,
          duplicates + " duplicate messages: more than the parcels in flight hold");
    } finally {
      cancel(second);
    }
  }

  /** {@code flink run -d} of the bundle, from a checkpoint if one is given; returns the job id. */
  private static String submit(CampaignNotifierOptions options, String fromCheckpoint)
      throws Exception {
    List<String> before = jobIds();
    // Both task slots: the TaskManager has two cores.
    List<String> args =
        new ArrayList<>(List.of("run", "-d", "-p", "2", "-m", "127.0.0.1:" + restPort));
    if (fromCheckpoint != null) {
      args.addAll(List.of("-s", fromCheckpoint));
    }
    args.add(bundle.toString());
    args.addAll(
        List.of(
            "--runner=FlinkRunner",
            "--fanOutSlicesPerTurn=4",
            "--checkpointingInterval=1000",
            "--externalizedCheckpointsEnabled=true",
            "--retainExternalizedCheckpointsOnCancellation=true",
            "--fasterCopy=true"));
    args.addAll(ServiceClient.serviceArgs(options, options.getJdbcUrl()));
    try (ServiceProcess cli =
        flink("flink-run", "512m", "org.apache.flink.client.cli.CliFrontend", args)) {
      Await.until("flink run to return", WAIT, () -> !cli.isAlive(), () -> "\n" + cli.log());
      assertTrue(cli.log().contains("Job has been submitted with JobID"), cli.log());
    }
    List<String> after = jobIds();
    after.removeAll(before);
    assertEquals(1, after.size(), "one new job: " + after);
    String job = after.get(0);
    Await.until(
        "the job running",
        WAIT,
        () -> "RUNNING".equals(rest("/jobs/" + job).path("state").asText()),
        () -> "\n" + tail(jobManager.log()));
    return job;
  }

  /** {@code flink cancel}, through the REST API the CLI uses, and wait until it is cancelled. */
  private static void cancel(String job) throws Exception {
    HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + restPort + "/jobs/" + job + "?mode=cancel"))
                .method("PATCH", HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
    Await.until(
        "job " + job + " cancelled",
        WAIT,
        () -> "CANCELED".equals(rest("/jobs/" + job).path("state").asText()));
  }

  /** Records the job's vertices sent on, summed, as the JobManager's REST API reports them. */
  private static long recordsWritten(String job) {
    long written = 0;
    for (JsonNode vertex : rest("/jobs/" + job).path("vertices")) {
      written += vertex.path("metrics").path("write-records").asLong();
    }
    return written;
  }

  private static List<String> jobIds() {
    List<String> ids = new ArrayList<>();
    rest("/jobs").path("jobs").forEach(j -> ids.add(j.path("id").asText()));
    return ids;
  }

  private static JsonNode rest(String path) {
    String body = ClusterKit.httpGet("http://127.0.0.1:" + restPort + path);
    try {
      return body.isEmpty() ? JSON.missingNode() : JSON.readTree(body);
    } catch (IOException e) {
      return JSON.missingNode();
    }
  }

  private static ServiceProcess flink(String name, String heap, String mainClass, String... args)
      throws IOException {
    return flink(name, heap, mainClass, List.of(args));
  }

  private static ServiceProcess flink(String name, String heap, String mainClass, List<String> args)
      throws IOException {
    List<String> command =
        ClusterKit.javaCommand(
            classpath,
            heap,
            List.of(
                "-XX:MaxDirectMemorySize=512m",
                "-Dlog4j.configurationFile=" + conf.resolve("log4j.properties")),
            mainClass,
            args);
    return ServiceProcess.exec(command, Map.of("FLINK_CONF_DIR", conf.toString()), name);
  }

  private static String tail(String log) {
    return log.length() <= 20_000 ? log : log.substring(log.length() - 20_000);
  }
}
