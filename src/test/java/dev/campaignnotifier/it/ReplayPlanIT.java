package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import dev.campaignnotifier.startup.ReplayPlan;
import dev.campaignnotifier.startup.ServiceConfig;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/**
 * Where a restart resumes reading when campaigns were published again: the replay plan counts a
 * campaign by its newest version, on a real broker and PostgreSQL.
 */
class ReplayPlanIT {
  @Test
  void aCampaignEndedEarlyBeforeTheRestartIsNotReplayedButOneStillOpenIs() throws Exception {
    CampaignNotifierOptions options = ServiceClient.options(true);
    long t = Instant.now().getEpochSecond();
    try (ServiceClient client = new ServiceClient(options);
        Admin admin = LocalServers.kafka().admin()) {
      // Offsets 0 and 1: a campaign and its "sold out" version; 2: a campaign still open. None
      // is in the delivery ledger, as after a crash in the middle of their fan-outs.
      client.publish(
          "k", Samples.versionJson("sold", Samples.RESTAURANT, t - 10, t + 3600, 0, "a"));
      client.publish("k", Samples.versionJson("sold", Samples.RESTAURANT, t - 10, t - 1, 1, "b"));
      client.publish(
          "k", Samples.versionJson("open", Samples.RESTAURANT, t - 10, t + 3600, 0, "c"));
      TopicPartition partition = new TopicPartition(options.getInputTopic(), 0);
      admin
          .alterConsumerGroupOffsets(
              options.getConsumerGroup(), Map.of(partition, new OffsetAndMetadata(3)))
          .all()
          .get(30, TimeUnit.SECONDS);

      ReplayPlan.prepare(ServiceConfig.resolve(options), System.currentTimeMillis());

      long resumeAt =
          admin
              .listConsumerGroupOffsets(options.getConsumerGroup())
              .partitionsToOffsetAndMetadata()
              .get(30, TimeUnit.SECONDS)
              .get(partition)
              .offset();
      assertEquals(2, resumeAt, "the open campaign is read again, the ended one is not");
    }
  }
}
