package dev.campaignnotifier.subscribers;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;

/**
 * The {@code subscribers_restaurants} table as the modes need it: read whole for a snapshot, and
 * checked at start-up (the lookup index; the table's size against the heap).
 *
 * <p>Read whole One statement is one MVCC snapshot in PostgreSQL, so the result is consistent even
 * while rows are being changed.
 *
 * <p>On PostgreSQL's own driver the rows come with {@code COPY (SELECT ...) TO STDOUT}: one stream
 * with no per-row protocol messages to decode, several times faster than a cursor and ResultSet
 * (docs/subscriber-modes.md). Any other driver gets the same query through a streaming cursor.
 */
public final class SubscriberTable {
  static final String QUERY = "SELECT restaurant_id, client_id FROM public.subscribers_restaurants";
  private static final int FETCH_SIZE = 50_000;

  /** The statement {@code lookup} mode needs (the one in sql/003_subscriber_lookup_index.sql). */
  public static final String LOOKUP_INDEX =
      "CREATE INDEX CONCURRENTLY IF NOT EXISTS subscribers_restaurants_restaurant_client_idx"
          + " ON public.subscribers_restaurants (restaurant_id, client_id)";

  /** Heap per distinct (restaurant, client) pair in a snapshot: 10,000,000 rows took 574 MiB. */
  public static final long SNAPSHOT_BYTES_PER_ROW = 60;

  private static final String LOOKUP_INDEX_QUERY =
      "SELECT count(*) FROM pg_index i"
          + " WHERE i.indrelid = to_regclass('public.subscribers_restaurants')"
          + " AND i.indisvalid AND i.indpred IS NULL AND i.indnkeyatts >= 2"
          + " AND i.indkey[0] = (SELECT attnum FROM pg_attribute"
          + "     WHERE attrelid = i.indrelid AND attname = 'restaurant_id')"
          + " AND i.indkey[1] = (SELECT attnum FROM pg_attribute"
          + "     WHERE attrelid = i.indrelid AND attname = 'client_id')";

  /**
   * The planner's row count; a table never analyzed has none, and is then estimated from its size
   * on disk (about 100 bytes a row with two UUID-like ids).
   */
  private static final String ESTIMATED_ROWS_QUERY =
      "SELECT CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint"
          + " ELSE pg_relation_size(c.oid) / 100 END"
          + " FROM pg_class c WHERE c.oid = to_regclass('public.subscribers_restaurants')";

  private SubscriberTable() {}

  /** Whether a valid index leads with (restaurant_id, client_id), as lookup mode needs. */
  public static boolean hasLookupIndex(Connection connection) throws SQLException {
    return queryLong(connection, LOOKUP_INDEX_QUERY) > 0;
  }

  /** About how many rows the table has ({@code pg_class.reltuples}), without counting them. */
  public static long estimatedRows(Connection connection) throws SQLException {
    return queryLong(connection, ESTIMATED_ROWS_QUERY);
  }

  private static long queryLong(Connection connection, String sql) throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(sql);
        ResultSet row = statement.executeQuery()) {
      return row.next() ? row.getLong(1) : 0;
    }
  }

  public static SubscriberSnapshot read(DataSource dataSource) throws SQLException {
    try (Connection connection = dataSource.getConnection()) {
      SubscriberSnapshot.Builder builder = SubscriberSnapshot.builder();
      if (connection.isWrapperFor(PGConnection.class)) {
        copy(connection.unwrap(PGConnection.class), builder);
      } else {
        select(connection, builder);
      }
      return builder.build(System.currentTimeMillis());
    }
  }

  private static void copy(PGConnection connection, SubscriberSnapshot.Builder builder)
      throws SQLException {
    CopyOut copy = connection.getCopyAPI().copyOut("COPY (" + QUERY + ") TO STDOUT");
    try {
      byte[] row;
      while ((row = copy.readFromCopy()) != null) {
        addTextRow(row, builder);
      }
    } finally {
      if (copy.isActive()) {
        copy.cancelCopy();
      }
    }
  }

  /**
   * One row of COPY's text format: the two columns separated by a tab, ended by a newline, with
   * backslash escapes for a backslash, tab or newline inside a value (rare in ids, but honoured).
   */
  static void addTextRow(byte[] row, SubscriberSnapshot.Builder builder) {
    int end = row.length > 0 && row[row.length - 1] == '\n' ? row.length - 1 : row.length;
    int tab = -1;
    boolean escaped = false;
    for (int i = 0; i < end; i++) {
      if (row[i] == '\t' && tab < 0) {
        tab = i;
      } else if (row[i] == '\\') {
        escaped = true;
      }
    }
    if (tab < 0) {
      throw new IllegalStateException("a COPY row without two columns");
    }
    if (escaped) {
      builder.add(unescape(row, 0, tab), unescape(row, tab + 1, end));
    } else {
      builder.add(
          new String(row, 0, tab, StandardCharsets.UTF_8),
          new String(row, tab + 1, end - tab - 1, StandardCharsets.UTF_8));
    }
  }

  private static String unescape(byte[] row, int from, int to) {
    ByteArrayOutputStream value = new ByteArrayOutputStream(to - from);
    for (int i = from; i < to; i++) {
      byte b = row[i];
      if (b == '\\' && i + 1 < to) {
        byte next = row[++i];
        switch (next) {
          case 't' -> value.write('\t');
          case 'n' -> value.write('\n');
          case 'r' -> value.write('\r');
          case 'b' -> value.write('\b');
          case 'f' -> value.write('\f');
          case 'v' -> value.write(0x0b);
          default -> value.write(next);
        }
      } else {
        value.write(b);
      }
    }
    return value.toString(StandardCharsets.UTF_8);
  }

  private static void select(Connection connection, SubscriberSnapshot.Builder builder)
      throws SQLException {
    boolean autoCommit = connection.getAutoCommit();
    // Drivers like pgjdbc only stream with a cursor inside a transaction.
    connection.setAutoCommit(false);
    try (PreparedStatement statement = connection.prepareStatement(QUERY)) {
      statement.setFetchSize(FETCH_SIZE);
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          builder.add(rows.getString(1), rows.getString(2));
        }
      }
      connection.commit();
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }
}
