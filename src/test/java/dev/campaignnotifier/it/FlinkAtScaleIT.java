package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The FlinkRunner at the size the issue tracker's failures happened at, with {@code
 * runners/flink-local.sh}'s own settings (read from the script) and two subtasks: 1,200,000
 * subscriptions in snapshot mode, refreshed every 5 s while Flink checkpoints every 10 s. A
 * 200,000-subscriber campaign's slices must be spread over both subtasks; a 1,000,000-subscriber
 * campaign must be delivered once, with checkpoints still completing after it and no second
 * fan-out. Before the launcher stored checkpoints in files, every checkpoint after the first
 * refresh failed (state over the JobManager heap's 5 MB limit) and campaigns were fanned out again.
 */
@Tag("slow")
class FlinkAtScaleIT {
  private static final Duration WAIT = Duration.ofMinutes(6);
  private static final Pattern TALLY =
      Pattern.compile("Delivery worker (\\w+) \\(.*\\): (\\d+) slices, (\\d+) notifications");

  private static long now() {
    return Instant.now().getEpochSecond();
  }

  @Test
  void spreadsSlicesOverSubtasksAndCheckpointsHoldAtAMillionSubscribers() throws Exception {
    CampaignNotifierOptions options = ServiceClient.options(false);
    ServiceClient client = new ServiceClient(options);
    client.insertSubscribers("r-200k", 200_000);
    client.insertSubscribers("r-1m", 1_000_000);
    client.execute("ANALYZE public.subscribers_restaurants");
    Path checkpoints = LocalServers.tempDir("flink-at-scale");

    List<String> command = new ArrayList<>();
    command.add(ServiceProcess.java());
    command.add("-Xmx4g");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("dev.campaignnotifier.CampaignNotifier");
    command.addAll(ClusterKit.launcherArgs("flink-local.sh", checkpoints));
    command.add("--parallelism=2");
    // The launcher's Flink runs in lookup mode unless told: this test is of the snapshot side input
    // held in every checkpoint.
    command.add("--subscribers=snapshot");
    ServiceClient.serviceArgs(options, options.getJdbcUrl()).stream()
        .filter(arg -> !arg.startsWith("--subscribersRefresh="))
        .forEach(command::add);
    command.add("--subscribersRefresh=5s");
    try (ServiceProcess service = ServiceProcess.serve(command, "flink-at-scale")) {
      Await.until(
          "ready: running, with the first snapshot",
          WAIT,
          () -> service.alive("the service") && service.ready());

      client.publish("k", Samples.campaignJson("c-200k", "r-200k", now() - 10, now() + 3600));
      Await.until(
          "200,000 rows",
          WAIT,
          () -> service.alive("the service") && client.rowsOf("c-200k") == 200_000);
      // 200,000 / --deliverySliceSize 2000 = 100 slices, each worker's tally logged within 5 s.
      Await.until(
          "the delivery tallies of 100 slices",
          Duration.ofSeconds(30),
          () -> lastTallies(service.log()).values().stream().mapToLong(t -> t[0]).sum() == 100,
          () -> ", tallies " + describe(lastTallies(service.log())));
      Map<String, long[]> tallies = lastTallies(service.log());
      System.out.println("200,000-subscriber campaign, slices per worker: " + describe(tallies));
      assertEquals(2, tallies.size(), "delivering workers: " + describe(tallies));
      for (long[] t : tallies.values()) {
        assertTrue(t[0] >= 30, "a subtask delivered under 30% of the slices: " + describe(tallies));
      }

      client.publish("k", Samples.campaignJson("c-1m", "r-1m", now() - 10, now() + 3600));
      Await.until(
          "1,000,000 rows",
          WAIT,
          () -> service.alive("the service") && client.rowsOf("c-1m") == 1_000_000,
          () -> ", " + client.rowsOf("c-1m") + " so far");
      long afterDelivery = latestCheckpoint(checkpoints);
      // Three more checkpoints, each after a refresh of the 1,200,000-row snapshot.
      Await.until(
          "3 checkpoints after the delivery (the last was chk-" + afterDelivery + ")",
          Duration.ofSeconds(90),
          () -> service.alive("the service") && latestCheckpoint(checkpoints) >= afterDelivery + 3,
          () -> ", latest chk-" + latestCheckpoint(checkpoints));

      String log = service.log();
      System.out.printf(
          "checkpoints: chk-%d after the 1,000,000 delivery, chk-%d at the end%n",
          afterDelivery, latestCheckpoint(checkpoints));
      assertFalse(log.contains("larger than the maximum permitted"), "a checkpoint was too big");
      // One fan-out per campaign, from the delivery ledger: each fan-out numbers its slices under
      // an id of its own, so a second fan-out (a restore that repeated one) is a second id.
      assertEquals(1, fanOuts(client, "c-1m"), "fan-outs of c-1m");
      assertEquals(1, fanOuts(client, "c-200k"), "fan-outs of c-200k");
      Map<String, Integer> messages = client.notificationsByKey();
      assertEquals(1_200_000, messages.size(), "distinct messages");
      assertEquals(0, messages.values().stream().filter(n -> n > 1).count(), "duplicated messages");
      assertEquals(1_200_000, client.feedbackRows());
    }
  }

  /** Per worker, its last logged tally: {slices, notifications}. */
  private static Map<String, long[]> lastTallies(String log) {
    Map<String, long[]> last = new HashMap<>();
    Matcher m = TALLY.matcher(log);
    while (m.find()) {
      last.put(m.group(1), new long[] {Long.parseLong(m.group(2)), Long.parseLong(m.group(3))});
    }
    return last;
  }

  private static String describe(Map<String, long[]> tallies) {
    StringBuilder s = new StringBuilder();
    tallies.forEach((w, t) -> s.append(w).append('=').append(t[0]).append(" slices "));
    return s.toString().trim();
  }

  /**
   * The highest chk-N Flink has written under {@code dir}/{job} (0 before the first). Flink deletes
   * a superseded chk-N while this reads, so it reads names only ({@code Files.walk} reads each
   * entry's attributes and throws for one deleted in between).
   */
  private static long latestCheckpoint(Path dir) {
    long latest = 0;
    for (String job : names(dir)) {
      for (String name : names(dir.resolve(job))) {
        if (name.matches("chk-\\d+")) {
          latest = Math.max(latest, Long.parseLong(name.substring(4)));
        }
      }
    }
    return latest;
  }

  /** The names in a directory; none when it is gone. */
  private static List<String> names(Path dir) {
    String[] names = dir.toFile().list();
    return names == null ? List.of() : List.of(names);
  }

  private static long fanOuts(ServiceClient client, String campaign) {
    return client.count(
        "SELECT count(DISTINCT fanout_id) FROM public.campaign_slices WHERE adv_campaign_id = '"
            + campaign
            + "'");
  }
}
