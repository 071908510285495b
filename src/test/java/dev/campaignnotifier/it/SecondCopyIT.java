package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Two copies of the service with the same {@code --consumerGroup}, each in its own JVM on real
 * servers, as an operator's mistake or a naive "high availability" setup would run them. Before the
 * group lock, both read every partition and both fanned out every campaign.
 */
@Tag("slow")
class SecondCopyIT {
  private static final Duration WAIT = Duration.ofMinutes(3);
  private static final int SUBSCRIBERS = 20_000;

  private static long now() {
    return Instant.now().getEpochSecond();
  }

  @Test
  void aSecondCopyWaitsAsAStandbyAndTakesOverOnlyWhenTheFirstIsGone() throws Exception {
    CampaignNotifierOptions o = ServiceClient.options(true);
    ServiceClient db = new ServiceClient(o);
    db.insertSubscribers("big", SUBSCRIBERS);
    List<String> args = ServiceClient.serviceArgs(o, o.getJdbcUrl());
    try (ServiceProcess first = ServiceProcess.start(args)) {
      Await.until(
          "the first copy ready, with its snapshot",
          WAIT,
          () -> first.alive("the first copy") && first.ready());
      try (ServiceProcess second = ServiceProcess.start(args)) {
        Await.until(
            "the second copy waiting as a standby",
            WAIT,
            () ->
                second.alive("the second copy")
                    && second.health().contains("a standby while another copy holds it"));
        assertTrue(
            second.log().contains("held by another copy of the service (campaign-notifier on "),
            "the standby does not say who holds the group");

        db.publish("k", Samples.campaignJson("while-both", "big", now() - 10, now() + 3600));
        Await.until("every row", WAIT, () -> db.rowsOf("while-both") >= SUBSCRIBERS);
        // Still a standby, so it never ran a pipeline that could have fanned the campaign out.
        assertTrue(
            second.health().contains("a standby while another copy holds it"),
            "the standby: " + second.health());

        first.kill();
        Await.until(
            "the standby taking over",
            WAIT,
            () -> second.alive("the second copy") && second.ready());
        db.publish(
            "k",
            Samples.campaignJson("after-takeover", Samples.RESTAURANT, now() - 10, now() + 3600));
        Await.until("the new copy's rows", WAIT, () -> db.rowsOf("after-takeover") >= 9);
        Await.until("every message", WAIT, () -> db.notifications().size() >= SUBSCRIBERS + 9);

        Map<String, Integer> messages = db.notificationsByKey();
        long duplicates = messages.values().stream().mapToLong(n -> n - 1).sum();
        System.out.printf(
            "second copy: rows expected %d / written %d; messages expected %d / delivered %d /"
                + " duplicated %d%n",
            SUBSCRIBERS + 9, db.feedbackRows(), SUBSCRIBERS + 9, messages.size(), duplicates);
        assertEquals(SUBSCRIBERS + 9, db.feedbackRows());
        assertEquals(SUBSCRIBERS + 9, messages.size());
        assertEquals(0, duplicates, "a campaign was delivered twice");
      }
    }
  }

  /**
   * The holder is cut off from PostgreSQL long enough for the standby to take the group; when it
   * can reach PostgreSQL again it finds the lock taken and stops (exit 3), rather than fanning out
   * beside the new holder.
   */
  @Test
  void aHolderThatLostTheGroupWhileCutOffStops() throws Exception {
    CampaignNotifierOptions o = ServiceClient.options(true);
    ServiceClient db = new ServiceClient(o);
    try (TcpProxy proxy = new TcpProxy(LocalServers.postgres().port());
        ServiceProcess first =
            ServiceProcess.start(
                ServiceClient.serviceArgs(
                    o, "jdbc:postgresql://localhost:" + proxy.port() + "/" + db.database))) {
      Await.until(
          "the first copy ready, with its snapshot",
          WAIT,
          () -> first.alive("the first copy") && first.ready());
      try (ServiceProcess second =
          ServiceProcess.start(ServiceClient.serviceArgs(o, o.getJdbcUrl()))) {
        Await.until(
            "the second copy waiting as a standby",
            WAIT,
            () ->
                second.alive("the second copy")
                    && second.health().contains("a standby while another copy holds it"));
        proxy.cut();
        Await.until(
            "the standby taking over",
            WAIT,
            () -> second.alive("the second copy") && second.ready());
        proxy.restore();
        Await.until("the first copy to stop", WAIT, () -> !first.isAlive());
        assertEquals(3, first.exitCode());
        assertTrue(first.log().contains("Another copy took consumer group"), first.log());

        db.publish(
            "k", Samples.campaignJson("after-cut", Samples.RESTAURANT, now() - 10, now() + 3600));
        Await.until("the new holder's rows", WAIT, () -> db.rowsOf("after-cut") >= 9);
        Await.until("its messages", WAIT, () -> db.notifications().size() >= 9);
        assertEquals(9, db.feedbackRows());
        assertEquals(9, db.notificationsByKey().size());
      }
    }
  }
}
