package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Kills and stops the service (a JVM of its own, on the DirectRunner) while it works, and checks
 * that a restart with the same options loses nothing and duplicates no row. Each test prints what
 * it saw: rows expected / written / duplicated, messages expected / delivered / duplicated.
 */
@Tag("slow")
class CrashRecoveryIT {
  private static final Duration WAIT = Duration.ofMinutes(5);

  /** A fresh set of topics and database, and the options that point the service at them. */
  private static final class Setup {
    final CampaignNotifierOptions options;
    final ServiceClient client;
    final List<String> args;

    Setup() {
      options = ServiceClient.options(true);
      args = ServiceClient.serviceArgs(options, options.getJdbcUrl());
      client = new ServiceClient(options);
    }

    void subscribers(String restaurant, int count) {
      client.insertSubscribers(restaurant, count);
    }

    long rows(String campaign) {
      return client.rowsOf(campaign);
    }

    Map<String, Integer> messages() {
      return client.notificationsByKey();
    }

    void report(String scenario, long expected) {
      client.assertDeliveredOnce(scenario, expected);
    }
  }

  private static long now() {
    return Instant.now().getEpochSecond();
  }

  @Test
  void killedMidFanOutRestartsAndCompletesWithoutLossOrDuplicateRows() throws Exception {
    Setup s = new Setup();
    int n = 200_000;
    s.subscribers("big", n);
    try (ServiceProcess first = ServiceProcess.start(s.args)) {
      Await.until(
          "ready, with the first snapshot", WAIT, () -> first.ready(), () -> "\n" + first.log());
      s.client.publish("k", Samples.campaignJson("crash", "big", now() - 10, now() + 3600));
      Await.until("some rows", WAIT, () -> s.rows("crash") >= 10_000);
      first.kill();
    }
    long atKill = s.rows("crash");
    System.out.println("killed with " + atKill + " of " + n + " rows written");
    assertTrue(atKill < n, "the fan-out had finished before the kill: the test proves nothing");

    try (ServiceProcess second = ServiceProcess.start(s.args)) {
      Await.until(
          n + " rows after the restart",
          WAIT,
          () -> s.rows("crash") >= n,
          () -> ", got " + s.rows("crash") + "\n" + tail(second.log()));
      Await.until("all messages", WAIT, () -> s.messages().size() >= n);
      s.report("kill -9 mid fan-out", n);
    }
  }

  /**
   * The lunch rush: 2,000 campaigns of 500 subscribers published at once, their small slices
   * delivered together in parcels; killed with part of them written. The restart delivers every
   * campaign in full with no duplicate row, and the duplicate messages are at most the parcels that
   * can be in flight: {@code ADMITTED} per delivery instance, a handful of instances, each of up to
   * {@code --deliverySliceSize} notifications.
   */
  @Test
  void killedMidRushDeliversEveryCampaignOnce() throws Exception {
    Setup s = new Setup();
    int campaigns = 2_000;
    int perCampaign = 500;
    int total = campaigns * perCampaign;
    s.client.insertRushSubscribers(campaigns, perCampaign);
    List<ProducerRecord<byte[], byte[]>> rush = s.client.rushCampaigns(campaigns, now());
    try (ServiceProcess first = ServiceProcess.start(s.args)) {
      Await.until("ready, with the first snapshot", WAIT, () -> first.ready());
      s.client.publishAll(rush);
      Await.until("a tenth of the rush", WAIT, () -> s.client.feedbackRows() >= total / 10);
      first.kill();
    }
    long atKill = s.client.feedbackRows();
    long finishedAtKill =
        s.client.count(
            "SELECT count(DISTINCT adv_campaign_id) FROM public.campaign_slices"
                + " WHERE of_slices > 0");
    System.out.println(
        "killed with " + atKill + " of " + total + " rows, " + finishedAtKill + " campaigns done");
    assertTrue(atKill < total, "the rush was delivered before the kill: the test proves nothing");

    try (ServiceProcess second = ServiceProcess.start(s.args)) {
      Await.until(
          "every campaign of the rush in full",
          WAIT,
          () -> s.client.feedbackRows() >= total,
          () -> ", got " + s.client.feedbackRows() + "\n" + tail(second.log()));
      Await.until("every message", WAIT, () -> s.messages().size() >= total);
      assertEquals(
          0,
          s.client.rushCampaignsShort(perCampaign),
          "campaigns with other than " + perCampaign + " rows");
      long duplicates = s.client.assertDeliveredOnce("kill -9 mid rush", total);
      assertTrue(
          duplicates <= ServiceClient.RUSH_PARCELS_IN_FLIGHT,
          duplicates + " duplicate messages: more than the parcels in flight hold");
    }
  }

  @Test
  void killedRightAfterReadingSeveralCampaignsDeliversEachInFull() throws Exception {
    Setup s = new Setup();
    int campaigns = 5;
    int perCampaign = 20_000;
    for (int i = 0; i < campaigns; i++) {
      s.subscribers("r" + i, perCampaign);
    }
    try (ServiceProcess first = ServiceProcess.start(s.args)) {
      Await.until("ready, with the first snapshot", WAIT, () -> first.ready());
      for (int i = 0; i < campaigns; i++) {
        s.client.publish("k", Samples.campaignJson("c" + i, "r" + i, now() - 10, now() + 3600));
      }
      // The first slice recorded (the delivery ledger's row): the structured record of delivery,
      // not the log's wording.
      Await.until(
          "the first slice recorded",
          WAIT,
          () -> s.client.count("SELECT count(*) FROM public.campaign_slices") >= 1);
      first.kill();
    }
    long atKill = s.client.feedbackRows();
    System.out.println("killed with " + atKill + " of " + campaigns * perCampaign + " rows");
    assertTrue(atKill < campaigns * perCampaign, "everything was written before the kill");

    try (ServiceProcess second = ServiceProcess.start(s.args)) {
      Await.until(
          "every campaign in full",
          WAIT,
          () -> s.client.feedbackRows() >= campaigns * perCampaign,
          () -> ", got " + s.client.feedbackRows() + "\n" + tail(second.log()));
      Await.until("every message", WAIT, () -> s.messages().size() >= campaigns * perCampaign);
      for (int i = 0; i < campaigns; i++) {
        assertEquals(perCampaign, s.rows("c" + i), "campaign c" + i);
      }
      s.report("kill -9 between campaigns", campaigns * perCampaign);
    }
  }

  @Test
  void gracefulStopResumesWhereItStoppedWithoutDuplicateMessages() throws Exception {
    Setup s = new Setup();
    s.subscribers("g", 5_000);
    try (ServiceProcess first = ServiceProcess.start(s.args)) {
      Await.until("ready, with the first snapshot", WAIT, () -> first.ready());
      s.client.publish("k", Samples.campaignJson("before", "g", now() - 10, now() + 3600));
      Await.until("the first campaign", WAIT, () -> s.rows("before") >= 5_000);
      first.stop();
    }
    // Published while the service is down: the restart must pick it up, and only it.
    s.client.publish("k", Samples.campaignJson("during", "g", now() - 10, now() + 3600));
    try (ServiceProcess second = ServiceProcess.start(s.args)) {
      Await.until(
          "the campaign published while stopped",
          WAIT,
          () -> s.rows("during") >= 5_000,
          () -> "\n" + tail(second.log()));
      Await.until("its messages", WAIT, () -> s.messages().size() >= 10_000);
      Map<String, Integer> messages = s.messages();
      assertEquals(
          List.of(),
          messages.entrySet().stream()
              .filter(e -> e.getValue() > 1)
              .map(Map.Entry::getKey)
              .limit(5)
              .collect(Collectors.toList()),
          "messages delivered twice after a graceful stop");
      s.report("SIGTERM and restart", 10_000);
    }
  }

  private static String tail(String log) {
    return log.length() > 4000 ? log.substring(log.length() - 4000) : log;
  }
}
