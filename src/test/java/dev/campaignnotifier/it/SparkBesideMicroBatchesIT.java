package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.Samples;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * On Spark's local master, as {@code runners/spark-local.sh} runs it, a big campaign is fanned out
 * and delivered beside the micro-batches ({@code RunnerProfile#deliversBigBeside}, {@code
 * BesideBundles}).
 */
class SparkBesideMicroBatchesIT {
  private static final Duration WAIT = RunnerContract.WAIT;

  /** Waits for a transaction's lock in this test's database (the server is shared). */
  private static final String WAITING_HERE =
      "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'"
          + " AND pid IN (SELECT pid FROM pg_stat_activity WHERE datname = current_database())";

  /** The big campaign's row of each of its subscribers, written and not committed. */
  private static final String HOLD_EVERY_ROW =
      "INSERT INTO public.subscribers_feedback (restaurant_id, adv_campaign_id,"
          + " adv_campaign_content, adv_campaign_owner, adv_campaign_owner_contact,"
          + " adv_campaign_datetime_start, adv_campaign_datetime_end, datetime_created,"
          + " client_id, trigger_datetime_created)"
          + " SELECT 'big-restaurant', 'big', '', '', '', 0, 0, 0, client_id, 0"
          + " FROM public.subscribers_restaurants WHERE restaurant_id = 'big-restaurant'";

  private static long now() {
    return Instant.now().getEpochSecond();
  }

  /**
   * A small campaign published while a big one's delivery is held up is delivered at once, not
   * after it: the big campaign's slices are delivered beside the micro-batches ({@code
   * RunnerProfile#deliversBigBeside}), so the next micro-batch does not wait for them. Held up by a
   * row of the big campaign that another transaction has written and not committed (the delivery's
   * insert of that client waits for it); then that transaction rolls back, and the big campaign
   * completes: every row once.
   */
  @Test
  void aSmallCampaignIsNotHeldBehindABigCampaignsDelivery() throws Exception {
    try (RunningPipeline service =
        RunningPipeline.start(true, SparkRunnerIT.sparkArgs("--subscribers=lookup"))) {
      service.insertSubscribers("big-restaurant", 20_000);
      try (Connection holder = service.db()) {
        holder.setAutoCommit(false);
        try (Statement s = holder.createStatement()) {
          s.execute(
              "INSERT INTO public.subscribers_feedback (restaurant_id, adv_campaign_id,"
                  + " adv_campaign_content, adv_campaign_owner, adv_campaign_owner_contact,"
                  + " adv_campaign_datetime_start, adv_campaign_datetime_end, datetime_created,"
                  + " client_id, trigger_datetime_created)"
                  + " VALUES ('big-restaurant', 'big', '', '', '', 0, 0, 0, 'client-1', 0)");
        }
        service.publish(
            "k", Samples.campaignJson("big", "big-restaurant", now() - 10, now() + 3600));
        Await.until(
            "the big campaign's delivery held up", WAIT, () -> service.count(WAITING_HERE) > 0);
        service.publish(
            "k", Samples.campaignJson("small", Samples.RESTAURANT, now() - 10, now() + 3600));
        Await.until(
            "the small campaign's rows while the big one is held up",
            Duration.ofSeconds(60),
            () -> service.rowsOf("small") >= 9);
        assertTrue(service.count(WAITING_HERE) > 0, "the big campaign's delivery still held up");
        holder.rollback();
      }
      Await.until("the big campaign's rows", WAIT, () -> service.rowsOf("big") >= 20_000);
      Await.until("every message", WAIT, () -> service.notifications().size() >= 20_009);
      service.assertDeliveredOnce("a small campaign beside a big one", 20_009);
    }
  }

  /**
   * A big campaign is not read, sliced and handed over inside a micro-batch: with every one of its
   * deliveries held up, more of it than the JVM takes beside the micro-batches ({@code
   * --deliveryBesideClients}, here 4,000 of its 20,000 subscribers) waits for room, and the
   * campaigns published meanwhile are delivered all the same: a small one, and one of 800
   * subscribers, more than the bundle's question reads (500) but one slice, which is fanned out and
   * delivered in its micro-batch, not queued beside behind the big one. Inside the micro-batch, the
   * big campaign's wait for room held the micro-batch, and the others with it; beside it, a
   * campaign of one slice queued behind the big one's slices.
   */
  @Test
  void campaignsOfOneSliceAreNotHeldBehindABigCampaignWaitingForRoom() throws Exception {
    try (RunningPipeline service =
        RunningPipeline.start(
            true,
            SparkRunnerIT.sparkArgs(
                "--subscribers=lookup",
                "--deliverySliceSize=1000",
                "--deliveryBesideClients=4000"))) {
      service.insertSubscribers("big-restaurant", 20_000);
      service.insertSubscribers("medium-restaurant", 800);
      try (Connection holder = service.db()) {
        holder.setAutoCommit(false);
        try (Statement s = holder.createStatement()) {
          s.execute(HOLD_EVERY_ROW);
        }
        service.publish(
            "k", Samples.campaignJson("big", "big-restaurant", now() - 10, now() + 3600));
        // The four delivery threads beside the micro-batches, each on a slice of 1,000.
        Await.until(
            "the big campaign's deliveries held up", WAIT, () -> service.count(WAITING_HERE) >= 4);
        service.publish(
            "k", Samples.campaignJson("small", Samples.RESTAURANT, now() - 10, now() + 3600));
        service.publish(
            "k", Samples.campaignJson("medium", "medium-restaurant", now() - 10, now() + 3600));
        Await.until(
            "the small and the medium campaign's rows while the big one waits for room",
            Duration.ofSeconds(60),
            () -> service.rowsOf("small") >= 9 && service.rowsOf("medium") >= 800);
        assertTrue(service.count(WAITING_HERE) >= 4, "the big campaign's deliveries still held up");
        holder.rollback();
      }
      Await.until("the big campaign's rows", WAIT, () -> service.rowsOf("big") >= 20_000);
      Await.until("every message", WAIT, () -> service.notifications().size() >= 20_809);
      service.assertDeliveredOnce("campaigns beside a big one waiting for room", 20_809);
    }
  }
}
