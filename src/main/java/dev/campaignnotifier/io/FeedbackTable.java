package dev.campaignnotifier.io;

import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.NotificationBatch;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.Set;
import javax.sql.DataSource;

/**
 * {@code subscribers_feedback}: where a notification is recorded once it has been delivered, and so
 * the record of what was delivered. {@code ON CONFLICT DO NOTHING} against the unique index on
 * (adv_campaign_id, client_id) makes every insert idempotent.
 */
public final class FeedbackTable {
  /**
   * One statement per slice: the campaign's fields once, the clients as one array. Sending about 40
   * bytes a row instead of a full row of parameters is what lets one connection keep up.
   */
  static final String INSERT =
      "INSERT INTO public.subscribers_feedback (restaurant_id, adv_campaign_id,"
          + " adv_campaign_content, adv_campaign_owner, adv_campaign_owner_contact,"
          + " adv_campaign_datetime_start, adv_campaign_datetime_end, datetime_created, client_id,"
          + " trigger_datetime_created, feedback)"
          + " SELECT ?, ?, ?, ?, ?, ?, ?, ?, client, ?, NULL FROM unnest(?::text[]) AS client"
          + " ON CONFLICT DO NOTHING";

  static final String DELIVERED =
      "SELECT client_id FROM public.subscribers_feedback WHERE adv_campaign_id = ?";

  private FeedbackTable() {}

  /** Inserts the slice's rows in one statement; a row that exists already is left as it is. */
  public static void insert(DataSource dataSource, NotificationBatch batch) throws SQLException {
    Campaign c = batch.campaign();
    try (Connection connection = dataSource.getConnection()) {
      // JdbcIO's pool hands out connections with auto-commit off: commit explicitly.
      connection.setAutoCommit(false);
      try (PreparedStatement s = connection.prepareStatement(INSERT)) {
        bind(s, connection, c, batch);
        s.executeUpdate();
        connection.commit();
      } catch (SQLException e) {
        connection.rollback();
        throw e;
      }
    }
  }

  private static void bind(
      PreparedStatement s, Connection connection, Campaign c, NotificationBatch batch)
      throws SQLException {
    {
      s.setString(1, c.restaurantId());
      s.setString(2, c.advCampaignId());
      s.setString(3, c.content());
      s.setString(4, c.owner());
      s.setString(5, c.ownerContact());
      s.setLong(6, c.startEpochSecond());
      s.setLong(7, c.endEpochSecond());
      s.setLong(8, c.createdEpochSecond());
      // The brief's column is int4: this fails loudly after 2038-01-19 rather than wrapping.
      s.setInt(9, Math.toIntExact(batch.triggerEpochSecond()));
      s.setArray(10, connection.createArrayOf("text", batch.clients().toArray()));
    }
  }

  /** The clients that already have a row for this campaign: they have been notified. */
  public static Set<String> deliveredClients(DataSource dataSource, String campaignId)
      throws SQLException {
    Set<String> clients = new HashSet<>();
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(DELIVERED)) {
      statement.setString(1, campaignId);
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          clients.add(rows.getString(1));
        }
      }
    }
    return clients;
  }

  /**
   * Connection problems (SQLState class 08), the server shutting down or starting (57P01-57P03),
   * and serialization or deadlock failures (40001, 40P01) pass with time; anything else will not.
   */
  public static boolean isTransient(SQLException e) {
    String state = e.getSQLState();
    if (state == null) {
      return e.getCause() instanceof java.io.IOException;
    }
    return state.startsWith("08")
        || state.equals("57P01")
        || state.equals("57P02")
        || state.equals("57P03")
        || state.equals("40001")
        || state.equals("40P01");
  }
}
