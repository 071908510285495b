package dev.campaignnotifier.delivery;

import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Slice;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * {@code subscribers_feedback}: where a notification is recorded once it has been delivered, and so
 * the record of what was delivered. {@code ON CONFLICT DO NOTHING} against the unique index on
 * (adv_campaign_id, client_id) makes every insert idempotent; most slices go in with COPY (see
 * {@link #write}).
 */
public final class FeedbackTable {
  /**
   * The idempotent path, one statement per slice: the campaign's fields once, the clients as one
   * array (about 40 bytes a row instead of a full row of parameters).
   */
  static final String INSERT =
      "INSERT INTO public.subscribers_feedback (restaurant_id, adv_campaign_id,"
          + " adv_campaign_content, adv_campaign_owner, adv_campaign_owner_contact,"
          + " adv_campaign_datetime_start, adv_campaign_datetime_end, datetime_created, client_id,"
          + " trigger_datetime_created, feedback)"
          + " SELECT ?, ?, ?, ?, ?, ?, ?, ?, client, ?, NULL FROM unnest(?::text[]) AS client"
          + " ON CONFLICT DO NOTHING";

  static final String FORGET =
      "DELETE FROM public.subscribers_feedback WHERE adv_campaign_id = ? AND client_id = ANY(?)";

  static final String DELIVERED_AMONG =
      "SELECT client_id FROM public.subscribers_feedback"
          + " WHERE adv_campaign_id = ? AND client_id = ANY(?)";

  private FeedbackTable() {}

  /** The COPY the service records a slice with (the benchmark's floor uses the same). */
  public static final String COPY =
      "COPY public.subscribers_feedback (restaurant_id, adv_campaign_id, adv_campaign_content,"
          + " adv_campaign_owner, adv_campaign_owner_contact, adv_campaign_datetime_start,"
          + " adv_campaign_datetime_end, datetime_created, client_id, trigger_datetime_created)"
          + " FROM STDIN";

  private static final String UNIQUE_VIOLATION = "23505";

  /**
   * What writing a slice's rows came to: the clients whose rows this transaction inserted (not
   * those that had a row already), and those PostgreSQL refused for good, each with its error.
   */
  public record Written(List<String> inserted, Map<String, SQLException> refused) {
    /** The clients whose rows are in the table once the transaction commits. */
    public List<String> accepted(List<String> clients) {
      List<String> accepted = new ArrayList<>(clients.size());
      for (String client : clients) {
        if (!refused.containsKey(client)) {
          accepted.add(client);
        }
      }
      return accepted;
    }
  }

  /**
   * Writes the rows of {@code clients} (of {@code slice}) in a new transaction on the connection
   * (auto-commit off, nothing done in it yet: a refusal rolls it back) and leaves it open.
   * Optimistic: a slice's rows are new unless this slice was written before (the runner retried a
   * bundle, a replay raced a refresh), so on PostgreSQL's driver they go in with COPY, the cheapest
   * way in; if a row exists the unique index refuses the whole COPY, and the rows go again through
   * {@code INSERT ... ON CONFLICT DO NOTHING}. Either way each (campaign, client) is one row.
   *
   * <p>If PostgreSQL refuses the rows for good ({@link SinkErrors.Kind#REFUSED}), the campaign is
   * tried alone first: one row with an empty client id, in a savepoint that is rolled back. If that
   * is refused too, the campaign is at fault and every client is refused with its error; otherwise
   * some clients are (an id too long for the unique index), and halving the slice in savepoints
   * finds them with a few statements each. A transient error or any other is thrown.
   */
  public static Written write(Connection connection, Slice slice, List<String> clients)
      throws SQLException {
    Campaign c = slice.campaign();
    // The brief's column is int4: this fails loudly after 2038-01-19 rather than wrapping.
    int trigger = Math.toIntExact(slice.triggerEpochSecond());
    if (clients.isEmpty()) {
      return new Written(List.of(), Map.of());
    }
    SQLException refusal;
    if (connection.isWrapperFor(PGConnection.class)) {
      try {
        CopyIn copy = connection.unwrap(PGConnection.class).getCopyAPI().copyIn(COPY);
        byte[] rows = copyRows(c, trigger, clients);
        copy.writeToCopy(rows, 0, rows.length);
        copy.endCopy();
        return new Written(clients, Map.of());
      } catch (SQLException e) {
        rollBackCopy(connection, e);
      }
    }
    try {
      return new Written(insertReturning(connection, c, trigger, clients), Map.of());
    } catch (SQLException e) {
      connection.rollback();
      if (SinkErrors.of(e) != SinkErrors.Kind.REFUSED) {
        throw e;
      }
      refusal = e;
    }
    SQLException campaignRefusal = campaignRefused(connection, c, trigger);
    if (campaignRefusal != null) {
      Map<String, SQLException> refused = new LinkedHashMap<>();
      clients.forEach(client -> refused.put(client, campaignRefusal));
      return new Written(List.of(), refused);
    }
    List<String> inserted = new ArrayList<>();
    Map<String, SQLException> refused = new LinkedHashMap<>();
    isolate(connection, c, trigger, clients, refusal, inserted, refused);
    return new Written(inserted, refused);
  }

  /**
   * Writes the rows of several slices ({@code clients.get(i)} of {@code slices.get(i)}) with one
   * {@code COPY} in a new transaction on the connection, and leaves it open: true if they all went
   * in. False, with the transaction rolled back, if a row exists already or PostgreSQL refuses one
   * for good: the caller then writes each slice alone ({@link #write}), which finds out which. A
   * broken connection, or any other error, is thrown.
   */
  public static boolean writeTogether(
      Connection connection, List<Slice> slices, List<List<String>> clients) throws SQLException {
    if (!connection.isWrapperFor(PGConnection.class)) {
      return false;
    }
    try {
      CopyIn copy = connection.unwrap(PGConnection.class).getCopyAPI().copyIn(COPY);
      for (int i = 0; i < slices.size(); i++) {
        if (clients.get(i).isEmpty()) {
          continue;
        }
        Slice slice = slices.get(i);
        byte[] rows =
            copyRows(slice.campaign(), Math.toIntExact(slice.triggerEpochSecond()), clients.get(i));
        copy.writeToCopy(rows, 0, rows.length);
      }
      copy.endCopy();
      return true;
    } catch (SQLException e) {
      rollBackCopy(connection, e);
      return false;
    }
  }

  /**
   * After a {@code COPY} failed with {@code e}: returns, the transaction rolled back, when the rows
   * can go again another way (a row exists, or PostgreSQL refused one for good); throws otherwise.
   * A connection that broke mid-COPY is dropped, not rolled back: pgjdbc keeps the COPY's lock on
   * it and a rollback would wait for it forever; the pool discards a closed connection and the
   * caller retries on a new one.
   */
  private static void rollBackCopy(Connection connection, SQLException e) throws SQLException {
    if (e.getSQLState() != null && e.getSQLState().startsWith("08")) {
      abandon(connection);
      throw e;
    }
    connection.rollback();
    if (!UNIQUE_VIOLATION.equals(e.getSQLState()) && SinkErrors.of(e) != SinkErrors.Kind.REFUSED) {
      throw e;
    }
  }

  /** The campaign's own refusal, if one row of it with an empty client id is refused too. */
  private static SQLException campaignRefused(Connection connection, Campaign c, int trigger)
      throws SQLException {
    Savepoint probe = connection.setSavepoint();
    try {
      insertReturning(connection, c, trigger, List.of(""));
      return null;
    } catch (SQLException e) {
      if (SinkErrors.of(e) != SinkErrors.Kind.REFUSED) {
        throw e;
      }
      return e;
    } finally {
      connection.rollback(probe);
    }
  }

  /**
   * Inserts {@code clients}, which together were refused with {@code refusal}: halves in
   * savepoints, down to the clients refused alone.
   */
  private static void isolate(
      Connection connection,
      Campaign c,
      int trigger,
      List<String> clients,
      SQLException refusal,
      List<String> inserted,
      Map<String, SQLException> refused)
      throws SQLException {
    if (clients.size() == 1) {
      refused.put(clients.get(0), refusal);
      return;
    }
    int half = clients.size() / 2;
    for (List<String> part :
        List.of(clients.subList(0, half), clients.subList(half, clients.size()))) {
      Savepoint before = connection.setSavepoint();
      try {
        inserted.addAll(insertReturning(connection, c, trigger, part));
        connection.releaseSavepoint(before);
      } catch (SQLException e) {
        if (SinkErrors.of(e) != SinkErrors.Kind.REFUSED) {
          throw e;
        }
        connection.rollback(before);
        isolate(connection, c, trigger, part, e, inserted, refused);
      }
    }
  }

  /** {@link #INSERT} of the clients; returns those whose rows it inserted. */
  private static List<String> insertReturning(
      Connection connection, Campaign c, int trigger, List<String> clients) throws SQLException {
    List<String> inserted = new ArrayList<>(clients.size());
    try (PreparedStatement s = connection.prepareStatement(INSERT + " RETURNING client_id")) {
      bind(s, connection, c, trigger, clients);
      try (ResultSet rows = s.executeQuery()) {
        while (rows.next()) {
          inserted.add(rows.getString(1));
        }
      }
    }
    return inserted;
  }

  /**
   * Deletes, in the open transaction, the rows of {@code clients} that it inserted: notifications
   * Kafka refused after their rows were written.
   */
  public static void forget(Connection connection, String campaignId, Collection<String> clients)
      throws SQLException {
    try (PreparedStatement s = connection.prepareStatement(FORGET)) {
      s.setString(1, campaignId);
      s.setArray(2, connection.createArrayOf("text", clients.toArray()));
      s.executeUpdate();
    }
  }

  private static void abandon(Connection connection) {
    try {
      connection.abort(Runnable::run);
    } catch (SQLException | RuntimeException ignored) {
      // Already unusable; the retry takes another connection either way.
    }
  }

  /** The slice in COPY's text format: the campaign's columns are escaped once, then a row each. */
  public static byte[] copyRows(Campaign c, int trigger, List<String> clients) {
    byte[] head =
        String.join(
                "\t",
                copyText(c.restaurantId()),
                copyText(c.advCampaignId()),
                copyText(c.content()),
                copyText(c.owner()),
                copyText(c.ownerContact()),
                Long.toString(c.startEpochSecond()),
                Long.toString(c.endEpochSecond()),
                Long.toString(c.createdEpochSecond()),
                "")
            .getBytes(StandardCharsets.UTF_8);
    byte[] tail = ("\t" + trigger + "\n").getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream rows =
        new ByteArrayOutputStream(clients.size() * (head.length + tail.length + 40));
    for (String client : clients) {
      rows.writeBytes(head);
      rows.writeBytes(copyText(client).getBytes(StandardCharsets.UTF_8));
      rows.writeBytes(tail);
    }
    return rows.toByteArray();
  }

  /** A value as COPY's text format wants it: backslash, tab, newline and return escaped. */
  static String copyText(String value) {
    boolean plain = true;
    for (int i = 0; i < value.length() && plain; i++) {
      char ch = value.charAt(i);
      plain = ch != '\\' && ch != '\t' && ch != '\n' && ch != '\r';
    }
    if (plain) {
      return value;
    }
    StringBuilder escaped = new StringBuilder(value.length() + 8);
    for (int i = 0; i < value.length(); i++) {
      char ch = value.charAt(i);
      switch (ch) {
        case '\\' -> escaped.append("\\\\");
        case '\t' -> escaped.append("\\t");
        case '\n' -> escaped.append("\\n");
        case '\r' -> escaped.append("\\r");
        default -> escaped.append(ch);
      }
    }
    return escaped.toString();
  }

  private static void bind(
      PreparedStatement s, Connection connection, Campaign c, int trigger, List<String> clients)
      throws SQLException {
    s.setString(1, c.restaurantId());
    s.setString(2, c.advCampaignId());
    s.setString(3, c.content());
    s.setString(4, c.owner());
    s.setString(5, c.ownerContact());
    s.setLong(6, c.startEpochSecond());
    s.setLong(7, c.endEpochSecond());
    s.setLong(8, c.createdEpochSecond());
    s.setInt(9, trigger);
    s.setArray(10, connection.createArrayOf("text", clients.toArray()));
  }

  /** The clients that already have a row for this campaign: they have been notified. */
  /** Those of {@code clients} that have a row for the campaign: one indexed probe each. */
  public static Set<String> deliveredAmong(
      DataSource dataSource, String campaignId, Collection<String> clients) throws SQLException {
    Set<String> delivered = new HashSet<>();
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(DELIVERED_AMONG)) {
      statement.setString(1, campaignId);
      statement.setArray(2, connection.createArrayOf("text", clients.toArray()));
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          delivered.add(rows.getString(1));
        }
      }
    }
    return delivered;
  }
}
