package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.campaignnotifier.Samples;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** The brief's sample, end to end, on a real Kafka broker and a real PostgreSQL. */
class SampleRoundTripIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(60);

  private static long now() {
    return Instant.now().getEpochSecond();
  }

  @Test
  void briefSampleGivesNineMessagesAndNineRowsMatchingTheContract() throws Exception {
    try (RunningPipeline service = RunningPipeline.start()) {
      long start = now() - 60;
      long end = now() + 3600;
      long before = now();
      service.publish(
          "key", Samples.campaignJson(Samples.CAMPAIGN_ID, Samples.RESTAURANT, start, end));

      Await.until("9 feedback rows", WAIT, () -> service.feedbackRows() >= 9);
      Await.until("9 notifications", WAIT, () -> service.notifications().size() >= 9);
      long after = now();

      List<ConsumerRecord<String, String>> messages = service.notifications();
      assertEquals(9, messages.size());
      List<String> clients = new ArrayList<>();
      for (ConsumerRecord<String, String> m : messages) {
        JsonNode n = JSON.readTree(m.value());
        List<String> fields = new ArrayList<>();
        n.fieldNames().forEachRemaining(fields::add);
        assertEquals(
            List.of(
                "restaurant_id",
                "adv_campaign_id",
                "adv_campaign_content",
                "adv_campaign_owner",
                "adv_campaign_owner_contact",
                "adv_campaign_datetime_start",
                "adv_campaign_datetime_end",
                "client_id",
                "datetime_created",
                "trigger_datetime_created"),
            fields);
        assertEquals(Samples.RESTAURANT, n.get("restaurant_id").textValue());
        assertEquals(Samples.CAMPAIGN_ID, n.get("adv_campaign_id").textValue());
        assertEquals("first campaign", n.get("adv_campaign_content").textValue());
        assertEquals("Ivanov Ivan Ivanovich", n.get("adv_campaign_owner").textValue());
        assertEquals("iiivanov@restaurant.ru", n.get("adv_campaign_owner_contact").textValue());
        assertEquals(start, n.get("adv_campaign_datetime_start").longValue());
        assertEquals(end, n.get("adv_campaign_datetime_end").longValue());
        assertEquals(1659131516L, n.get("datetime_created").longValue());
        assertTrue(n.get("adv_campaign_datetime_start").isIntegralNumber());
        long trigger = n.get("trigger_datetime_created").longValue();
        assertTrue(before <= trigger && trigger <= after, "trigger time " + trigger);
        String client = n.get("client_id").textValue();
        assertEquals(Samples.CAMPAIGN_ID + ":" + client, m.key());
        clients.add(client);
      }
      assertEquals(
          Samples.RESTAURANT_CLIENTS, clients.stream().sorted().collect(Collectors.toList()));

      try (Connection c = service.db();
          Statement s = c.createStatement();
          ResultSet r =
              s.executeQuery(
                  "SELECT restaurant_id, adv_campaign_id, adv_campaign_content, adv_campaign_owner,"
                      + " adv_campaign_owner_contact, adv_campaign_datetime_start,"
                      + " adv_campaign_datetime_end, datetime_created, client_id,"
                      + " trigger_datetime_created, feedback"
                      + " FROM public.subscribers_feedback ORDER BY client_id")) {
        Iterator<String> expectedClients = Samples.RESTAURANT_CLIENTS.iterator();
        int rows = 0;
        while (r.next()) {
          rows++;
          assertEquals(Samples.RESTAURANT, r.getString(1));
          assertEquals(Samples.CAMPAIGN_ID, r.getString(2));
          assertEquals("first campaign", r.getString(3));
          assertEquals("Ivanov Ivan Ivanovich", r.getString(4));
          assertEquals("iiivanov@restaurant.ru", r.getString(5));
          assertEquals(start, r.getLong(6));
          assertEquals(end, r.getLong(7));
          assertEquals(1659131516L, r.getLong(8));
          assertEquals(expectedClients.next(), r.getString(9));
          assertTrue(before <= r.getLong(10) && r.getLong(10) <= after);
          assertEquals(null, r.getString(11));
        }
        assertEquals(9, rows);
      }
      assertEquals(0, service.deadLetters().size());
      assertEquals(9, service.counter("notifications", "fannedOut"));
    }
  }

  @Test
  void expiredCampaignGivesNothing() {
    try (RunningPipeline service = RunningPipeline.start()) {
      service.publish(
          "k", Samples.campaignJson("expired", Samples.RESTAURANT, now() - 7200, now() - 3600));
      // A campaign published after it, to know the expired one was seen and passed over.
      service.publish(
          "k", Samples.campaignJson("marker", Samples.OTHER_RESTAURANT, now() - 10, now() + 3600));
      service.awaitCounter("campaigns", "expired", 1);
      Await.until("the marker's row", WAIT, () -> service.feedbackRows() >= 1);
      Await.until("the marker's message", WAIT, () -> service.notifications().size() >= 1);

      assertEquals(1, service.feedbackRows());
      assertEquals(
          0,
          service.count(
              "SELECT count(*) FROM public.subscribers_feedback WHERE adv_campaign_id = 'expired'"));
      List<ConsumerRecord<String, String>> messages = service.notifications();
      assertEquals(1, messages.size());
      assertEquals("marker:" + Samples.OTHER_CLIENT, messages.get(0).key());
      assertEquals(0, service.deadLetters().size());
    }
  }

  @Test
  void subscriberInsertedWhileRunningIsNotifiedAfterTheNextRefresh() {
    try (RunningPipeline service = RunningPipeline.start()) {
      service.awaitCounter("subscribers", "refreshes", 1);
      service.execute(
          "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
              + " VALUES ('new-client', '"
              + Samples.OTHER_RESTAURANT
              + "')");
      // Two more refreshes: the second surely began after the insert committed.
      long seen = service.counter("subscribers", "refreshes");
      service.awaitCounter("subscribers", "refreshes", seen + 2);

      service.publish(
          "k", Samples.campaignJson("later", Samples.OTHER_RESTAURANT, now() - 10, now() + 3600));
      Await.until("2 rows", WAIT, () -> service.feedbackRows() >= 2);
      Await.until("2 messages", WAIT, () -> service.notifications().size() >= 2);

      assertEquals(
          List.of("later:" + Samples.OTHER_CLIENT, "later:new-client"),
          service.notifications().stream()
              .map(ConsumerRecord::key)
              .sorted()
              .collect(Collectors.toList()));
      assertEquals(2, service.feedbackRows());
    }
  }

  @Test
  void sameCampaignPublishedTwiceLeavesNineRowsAndNineMessages() {
    try (RunningPipeline service = RunningPipeline.start()) {
      String campaign =
          Samples.campaignJson(Samples.CAMPAIGN_ID, Samples.RESTAURANT, now() - 60, now() + 3600);
      service.publish("key", campaign);
      service.publish("key", campaign);
      service.awaitCounter("campaigns", "duplicates", 1);
      Await.until("9 rows", WAIT, () -> service.feedbackRows() >= 9);
      Await.until("9 messages", WAIT, () -> service.notifications().size() >= 9);

      assertEquals(9, service.feedbackRows());
      assertEquals(9, service.notifications().size());
      assertEquals(9, service.counter("notifications", "fannedOut"));
    }
  }
}
