package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * An upgrade as docs/operations.md (Upgrading) has it: the service, in a JVM of its own, holds a
 * campaign for a start 35 s ahead and is half way through a 200,000-subscriber fan-out when it is
 * stopped (SIGTERM); it is started again with the same options. The held campaign goes out at its
 * start, the half-delivered one completes, and nobody is notified twice. On the DirectRunner
 * nothing of the runner's state crosses a start, so what the new build must read is only
 * PostgreSQL's tables and Kafka's offsets: the replay plan rebuilds the held campaign from Kafka
 * and the ledger completes the other. On Spark the same holds (each start has a checkpoint
 * directory of its own, and the graceful stop lets the micro-batch under way finish): its
 * launcher's stop and restart are {@code SparkLauncherIT}'s, so this test runs on Direct only.
 */
@Tag("slow")
class UpgradeIT {
  private static final Duration WAIT = Duration.ofMinutes(4);
  private static final int BIG = 200_000;

  private static long now() {
    return Instant.now().getEpochSecond();
  }

  @Test
  void onTheDirectRunner() throws Exception {
    upgrade("direct", List.of());
  }

  private static void upgrade(String name, List<String> runnerArgs) throws Exception {
    CampaignNotifierOptions o = ServiceClient.options(true);
    ServiceClient client = new ServiceClient(o);
    List<String> args = new ArrayList<>(runnerArgs);
    args.addAll(ServiceClient.serviceArgs(o, o.getJdbcUrl()));
    List<String> command = ClusterKit.serviceCommand(args);
    client.insertSubscribers("big", BIG);
    long start = now() + 35;
    try (ServiceProcess before = ServiceProcess.serve(command, name + "-before")) {
      Await.until("ready", WAIT, before::ready);
      client.publish("k", Samples.campaignJson("held", Samples.RESTAURANT, start, start + 3600));
      client.publish("k", Samples.campaignJson("half", "big", now() - 10, now() + 3600));
      Await.until(
          "the fan-out under way",
          WAIT,
          () -> before.alive("the service") && client.rowsOf("half") > 0);
      assertEquals(143, before.stop(), "stopped by SIGTERM (128 + 15)");
    }
    long rowsAtStop = client.rowsOf("half");
    if (name.equals("direct")) {
      // Spark's graceful stop lets the micro-batch under way finish first: there it is whole.
      assertTrue(rowsAtStop < BIG, "half delivered at the stop: " + rowsAtStop);
    }
    assertEquals(0, client.rowsOf("held"), "not before its start");
    try (ServiceProcess after = ServiceProcess.serve(command, name + "-after")) {
      Await.until(
          "the half-delivered campaign completed",
          WAIT,
          () -> after.alive("the restarted service") && client.rowsOf("half") == BIG);
      Await.until(
          "the held campaign at its start",
          WAIT,
          () -> after.alive("the restarted service") && client.rowsOf("held") == 9);
      long firstTrigger =
          client.count(
              "SELECT min(trigger_datetime_created) FROM public.subscribers_feedback"
                  + " WHERE adv_campaign_id = 'held'");
      assertTrue(firstTrigger >= start, "sent at " + firstTrigger + ", its start " + start);
      Await.until("every message", WAIT, () -> client.notificationsByKey().size() >= BIG + 9);
      System.out.printf(
          "upgrade on %s: %d of %d rows of 'half' before the stop%n", name, rowsAtStop, BIG);
      long twice = client.assertDeliveredOnce("upgrade on " + name, BIG + 9);
      assertTrue(twice <= 2 * 8 * 5_000, "Kafka duplicates within the parcels in flight: " + twice);
    }
  }
}
