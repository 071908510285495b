package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.delivery.DeliveryLedger;
import dev.campaignnotifier.delivery.FeedbackTable;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Slice;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

/**
 * The feedback sink on a real PostgreSQL through the service's own pooled data source: COPY for new
 * rows, the idempotent INSERT when some exist, and values with the characters COPY's text format
 * escapes.
 */
class FeedbackTableIT {
  private static DataSource database() {
    return LocalServers.database("feedback", "");
  }

  private static Campaign campaign(String content) {
    return new Campaign(
        "restaurant\\1", "campaign\t1", content, "owner", "owner@example.com", 10, 20, 5);
  }

  private static long count(DataSource db, String sql) throws Exception {
    return LocalServers.count(db, sql);
  }

  /**
   * Records the slice as the delivery does, in a transaction of its own: its rows ({@link
   * FeedbackTable#write}) and its ledger row; a row PostgreSQL refuses for good is thrown.
   */
  private static void record(DataSource db, Slice slice) throws Exception {
    try (Connection connection = db.getConnection()) {
      connection.setAutoCommit(false);
      FeedbackTable.Written written = FeedbackTable.write(connection, slice, slice.clients());
      if (!written.refused().isEmpty()) {
        connection.rollback();
        throw written.refused().values().iterator().next();
      }
      DeliveryLedger.record(connection, List.of(slice));
      connection.commit();
    }
  }

  private static Set<String> clientsOf(DataSource db, String campaignId) throws Exception {
    Set<String> clients = new java.util.HashSet<>();
    try (Connection c = db.getConnection();
        java.sql.PreparedStatement s =
            c.prepareStatement(
                "SELECT client_id FROM public.subscribers_feedback WHERE adv_campaign_id = ?")) {
      s.setString(1, campaignId);
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          clients.add(r.getString(1));
        }
      }
    }
    return clients;
  }

  @Test
  void thePooledConnectionReachesPostgresCopy() throws Exception {
    try (Connection c = database().getConnection()) {
      assertTrue(c.isWrapperFor(PGConnection.class), "COPY is used, not only the fallback");
    }
  }

  @Test
  void aSliceDeliveredTwiceIsRecordedOnce() throws Exception {
    DataSource db = database();
    Campaign c = campaign("first campaign");
    record(db, new Slice(c, 1_700_000_000L, List.of("a", "b", "c")));
    // A retried bundle: the same slice, plus one client that is new.
    record(db, new Slice(c, 1_700_000_001L, List.of("a", "b", "c", "d")));

    assertEquals(4, count(db, "SELECT count(*) FROM public.subscribers_feedback"));
    assertEquals(
        3,
        count(
            db,
            "SELECT count(*) FROM public.subscribers_feedback"
                + " WHERE trigger_datetime_created = 1700000000"),
        "rows that existed are left as they were");
    assertEquals(Set.of("a", "b", "c", "d"), clientsOf(db, "campaign\t1"));
  }

  @Test
  void theLedgerSaysFinishedOnceEverySliceOfAFanOutIsRecorded() throws Exception {
    DataSource db = database();
    Campaign c = campaign("ledger");
    String id = c.advCampaignId();
    // A fan-out cut short by a crash: slices 1 and 3 of 3 recorded, slice 2 lost.
    record(db, new Slice(c, 1L, List.of("a", "b"), "f1", 1, 0));
    record(db, new Slice(c, 1L, List.of("e"), "f1", 3, 3));
    assertFalse(DeliveryLedger.finished(db, id), "finished with a slice missing");
    // The replay's fan-out: only the clients of the lost slice, one slice, recorded twice.
    record(db, new Slice(c, 2L, List.of("c", "d"), "f2", 1, 1));
    record(db, new Slice(c, 2L, List.of("c", "d"), "f2", 1, 1));

    assertTrue(DeliveryLedger.finished(db, id));
    assertEquals(3, count(db, "SELECT count(*) FROM public.campaign_slices"));
    assertFalse(DeliveryLedger.finished(db, "another campaign"));
    DeliveryLedger.recordEmptyFanOut(db, "another campaign", "f3");
    assertTrue(DeliveryLedger.finished(db, "another campaign"), "a fan-out with nobody left");
  }

  /** What the fan-out asks for a bundle of campaigns at once, ids with COPY's escapes included. */
  @Test
  void oneQuestionSaysWhatWasDeliveredOfEachCampaign() throws Exception {
    DataSource db = LocalServers.database("before_among", "");
    Campaign cutShort = campaign("cut short");
    Campaign done =
        new Campaign("restaurant", "campaign \"2\", {x}", "done", "o", "o@x", 10, 20, 5);
    record(db, new Slice(cutShort, 1L, List.of("a"), "f1", 1, 0));
    record(db, new Slice(done, 1L, List.of("a", "b"), "f2", 1, 1));
    DeliveryLedger.recordEmptyFanOut(db, "nobody left", "f3");

    assertEquals(
        java.util.Map.of(
            cutShort.advCampaignId(),
            DeliveryLedger.Before.SOME,
            done.advCampaignId(),
            DeliveryLedger.Before.IN_FULL,
            "nobody left",
            DeliveryLedger.Before.IN_FULL,
            "never seen",
            DeliveryLedger.Before.NOTHING),
        DeliveryLedger.beforeAmong(
            db,
            List.of(
                cutShort.advCampaignId(),
                done.advCampaignId(),
                "nobody left",
                "never seen",
                "never seen")));
    assertEquals(java.util.Map.of(), DeliveryLedger.beforeAmong(db, List.of()));
  }

  @Test
  void valuesWithTabsNewlinesAndBackslashesArriveUnchanged() throws Exception {
    DataSource db = database();
    String content = "line one\nline\ttwo \\ and \r a return, ünïcode";
    record(db, new Slice(campaign(content), 1_700_000_000L, List.of("client\\x", "c\ty")));
    try (Connection conn = db.getConnection();
        Statement s = conn.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT restaurant_id, adv_campaign_id, adv_campaign_content, client_id,"
                    + " adv_campaign_datetime_start, adv_campaign_datetime_end, datetime_created,"
                    + " trigger_datetime_created, feedback"
                    + " FROM public.subscribers_feedback ORDER BY client_id")) {
      r.next();
      assertEquals("restaurant\\1", r.getString(1));
      assertEquals("campaign\t1", r.getString(2));
      assertEquals(content, r.getString(3));
      assertEquals("c\ty", r.getString(4));
      assertEquals(10, r.getLong(5));
      assertEquals(20, r.getLong(6));
      assertEquals(5, r.getLong(7));
      assertEquals(1_700_000_000L, r.getLong(8));
      assertEquals(null, r.getString(9));
      r.next();
      assertEquals("client\\x", r.getString(4));
    }
  }
}
