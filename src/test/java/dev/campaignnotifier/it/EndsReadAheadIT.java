package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import dev.campaignnotifier.runner.EndsReadAhead;
import dev.campaignnotifier.startup.ServiceConfig;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * What the Spark driver records ahead of the pipeline ({@link EndsReadAhead}), on a real broker and
 * PostgreSQL: a version ending now of a campaign whose fan-out has begun, at once; not one of a
 * campaign with no slice in the ledger (a campaign that had ended long before it was read), nor one
 * ending later; and never over a version created later.
 */
class EndsReadAheadIT {
  private static final Duration WAIT = Duration.ofSeconds(60);

  @Test
  void recordsEndsOfFanOutsUnderWayOnlyAndNeverOverANewerVersion() throws Exception {
    CampaignNotifierOptions options = ServiceClient.options(false);
    long t = Instant.now().getEpochSecond();
    AtomicBoolean running = new AtomicBoolean(true);
    try (ServiceClient client = new ServiceClient(options)) {
      // Fan-outs under way: a slice of each in the ledger.
      client.execute(
          "INSERT INTO public.campaign_slices (adv_campaign_id, fanout_id, slice, of_slices)"
              + " VALUES ('sold', 'f1', 1, 0), ('newer', 'f2', 1, 0), ('later', 'f3', 1, 0),"
              + " ('first', 'f4', 1, 0)");
      // 'newer' has a version created later than any this test publishes (created + 5).
      client.execute(
          "INSERT INTO public.campaign_versions (adv_campaign_id, restaurant_id, content, owner,"
              + " owner_contact, start_epoch, end_epoch, created_epoch, keep_until_epoch) VALUES"
              + " ('newer', 'r', 'kept', 'o', 'c', "
              + (t - 10)
              + ", "
              + (t + 3600)
              + ", "
              + (Samples.CREATED + 5)
              + ", "
              + (t + 3600)
              + ")");
      EndsReadAhead.start(ServiceConfig.resolve(options), running::get);

      // It reads from the topic's end: publish the first one until it is seen, so the reader is
      // known to follow the topic before the others are published.
      String first = Samples.versionJson("first", Samples.RESTAURANT, t - 10, t - 1, 1, "x");
      Await.until(
          "the reader following the topic",
          WAIT,
          () -> {
            client.publish("k", first);
            return versionsOf(client, "first") == 1;
          });

      client.publish(
          "k", Samples.versionJson("old", Samples.RESTAURANT, t - 7200, t - 3600, 0, "ended"));
      client.publish(
          "k", Samples.versionJson("later", Samples.RESTAURANT, t - 10, t + 3600, 1, "moved"));
      client.publish("k", Samples.versionJson("newer", "r", t - 10, t - 1, 1, "stale"));
      client.publish("k", Samples.versionJson("sold", Samples.RESTAURANT, t - 10, t - 1, 1, "out"));
      Await.until("the sold-out version recorded", WAIT, () -> versionsOf(client, "sold") == 1);

      // Read in order on one partition: everything before 'sold' has been read by now.
      assertEquals(0, versionsOf(client, "old"), "no fan-out of it began: not recorded");
      assertEquals(0, versionsOf(client, "later"), "ends in an hour: the pipeline's to record");
      assertEquals(
          1,
          client.count(
              "SELECT count(*) FROM public.campaign_versions WHERE adv_campaign_id = 'newer'"
                  + " AND content = 'kept'"),
          "a version created later stays");
    } finally {
      running.set(false);
    }
  }

  private static long versionsOf(ServiceClient client, String campaign) {
    return client.count(
        "SELECT count(*) FROM public.campaign_versions WHERE adv_campaign_id = '" + campaign + "'");
  }
}
