package dev.campaignnotifier.subscribers;

import dev.campaignnotifier.io.Retry;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code lookup} mode's reader: one query per campaign for its restaurant's distinct
 * subscribers, read through a server-side cursor one page at a time, so a worker holds one page
 * whatever the restaurant's size, and the rows come from one consistent MVCC snapshot. The index of
 * {@code sql/003_subscriber_lookup_index.sql} makes it an index-only range in client order ({@link
 * SubscriberTable#hasLookupIndex}).
 *
 * <p>PostgreSQL unreachable mid-read: the read is retried ({@link Retry}) from just after the last
 * client already handed over (keyset), so no client is handed over twice; the clients after that
 * point come from the retry's own snapshot.
 *
 * <p>A bundle of campaigns asks for the first clients of all their restaurants in one query ({@link
 * #firstClientsOf}); only a restaurant with more is read again on its own.
 */
public final class SubscriberLookup implements SubscriberReader, Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(SubscriberLookup.class);

  /** The query per campaign; {@code ?} is the restaurant. */
  public static final String QUERY =
      "SELECT DISTINCT client_id FROM public.subscribers_restaurants"
          + " WHERE restaurant_id = ? ORDER BY client_id";

  static final String QUERY_AFTER =
      "SELECT DISTINCT client_id FROM public.subscribers_restaurants"
          + " WHERE restaurant_id = ? AND client_id > ? ORDER BY client_id";

  static final String PAGE_QUERY =
      "SELECT DISTINCT client_id FROM public.subscribers_restaurants"
          + " WHERE restaurant_id = ? ORDER BY client_id LIMIT ?";

  public static final String PAGE_QUERY_AFTER =
      "SELECT DISTINCT client_id FROM public.subscribers_restaurants"
          + " WHERE restaurant_id = ? AND client_id > ? ORDER BY client_id LIMIT ?";

  /**
   * The first clients of many restaurants at once ({@link #firstClientsOf}): {@code ?} the limit,
   * then the restaurants. Each restaurant is its own index range in client order, read only as far
   * as the limit, whatever its size.
   */
  public static final String FIRST_CLIENTS_QUERY =
      "SELECT r.restaurant_id, ARRAY(SELECT DISTINCT s.client_id"
          + " FROM public.subscribers_restaurants s WHERE s.restaurant_id = r.restaurant_id"
          + " ORDER BY s.client_id LIMIT ?) FROM unnest(?::text[]) AS r(restaurant_id)";

  /**
   * The planner's choice for a restaurant it cannot see (the subquery's parameter) is a bitmap read
   * and a sort of the whole range, a million rows for a big restaurant to keep a few hundred;
   * without bitmaps it walks the index in order and stops at the limit.
   */
  public static final String INDEX_IN_ORDER = "SET LOCAL enable_bitmapscan = off";

  /** Restaurants per {@link #FIRST_CLIENTS_QUERY}: bounds the rows one answer holds. */
  static final int RESTAURANTS_PER_QUERY = 1_000;

  /** Rows fetched per round trip: one page in memory at a time. */
  static final int PAGE_ROWS = 5_000;

  private final SerializableFunction<Void, DataSource> dataSource;
  private final Counter rowsRead = Metrics.counter("subscribers", "lookupRows");
  private final Counter lookups = Metrics.counter("subscribers", "lookups");
  private final Counter retries = Metrics.counter("subscribers", "postgresRetries");

  public SubscriberLookup(SerializableFunction<Void, DataSource> dataSource) {
    this.dataSource = dataSource;
  }

  @Override
  public long forEachClient(String restaurantId, Consumer<String> client)
      throws InterruptedException {
    String[] last = {null};
    long[] count = {0};
    Retry.sql(
        "read the subscribers of restaurant " + restaurantId,
        LOG,
        retries::inc,
        () -> {
          read(
              restaurantId,
              last[0],
              c -> {
                client.accept(c);
                last[0] = c;
                count[0]++;
              });
          return null;
        });
    lookups.inc();
    rowsRead.inc(count[0]);
    return count[0];
  }

  /** One query of at most {@code limit} rows, through the index range after {@code after}. */
  @Override
  public long forEachClientAfter(
      String restaurantId, String after, int limit, Consumer<String> client)
      throws InterruptedException {
    List<String> page =
        Retry.sql(
            "read the subscribers of restaurant " + restaurantId,
            LOG,
            retries::inc,
            () -> {
              List<String> rows = new ArrayList<>();
              try (Connection connection = dataSource.apply(null).getConnection();
                  PreparedStatement statement =
                      connection.prepareStatement(after == null ? PAGE_QUERY : PAGE_QUERY_AFTER)) {
                statement.setFetchSize(PAGE_ROWS);
                statement.setString(1, restaurantId);
                int next = 2;
                if (after != null) {
                  statement.setString(next++, after);
                }
                statement.setInt(next, limit);
                try (ResultSet r = statement.executeQuery()) {
                  while (r.next()) {
                    rows.add(r.getString(1));
                  }
                }
              }
              return rows;
            });
    page.forEach(client);
    lookups.inc();
    rowsRead.inc(page.size());
    return page.size();
  }

  /** One query per {@link #RESTAURANTS_PER_QUERY} restaurants, each retried whole. */
  @Override
  public Map<String, List<String>> firstClientsOf(Collection<String> restaurantIds, int limit)
      throws InterruptedException {
    List<String> all = new ArrayList<>(new LinkedHashSet<>(restaurantIds));
    Map<String, List<String>> first = new HashMap<>();
    for (int from = 0; from < all.size(); from += RESTAURANTS_PER_QUERY) {
      List<String> group = all.subList(from, Math.min(all.size(), from + RESTAURANTS_PER_QUERY));
      Map<String, List<String>> read =
          Retry.sql(
              "read the subscribers of " + group.size() + " restaurants",
              LOG,
              retries::inc,
              () -> firstOf(group, limit));
      first.putAll(read);
      lookups.inc();
      read.values().forEach(clients -> rowsRead.inc(clients.size()));
    }
    return first;
  }

  private Map<String, List<String>> firstOf(List<String> restaurantIds, int limit)
      throws SQLException {
    Map<String, List<String>> first = new HashMap<>();
    try (Connection connection = dataSource.apply(null).getConnection()) {
      // SET LOCAL lasts until the commit. A failed read leaves the transaction open; the pool
      // rolls it back and restores auto-commit on return.
      connection.setAutoCommit(false);
      try (Statement set = connection.createStatement()) {
        set.execute(INDEX_IN_ORDER);
      }
      try (PreparedStatement statement = connection.prepareStatement(FIRST_CLIENTS_QUERY)) {
        statement.setInt(1, limit);
        statement.setArray(2, connection.createArrayOf("text", restaurantIds.toArray()));
        try (ResultSet rows = statement.executeQuery()) {
          while (rows.next()) {
            first.put(rows.getString(1), Arrays.asList((String[]) rows.getArray(2).getArray()));
          }
        }
      }
      connection.commit();
      connection.setAutoCommit(true);
    }
    return first;
  }

  /** One query, from the start or after {@code after}, streamed through a cursor. */
  private void read(String restaurantId, String after, Consumer<String> client)
      throws SQLException {
    try (Connection connection = dataSource.apply(null).getConnection()) {
      // pgjdbc streams through a cursor only inside a transaction, with a fetch size. A failed read
      // leaves the transaction open; the pool rolls it back and restores auto-commit on return.
      connection.setAutoCommit(false);
      try (PreparedStatement statement =
          connection.prepareStatement(after == null ? QUERY : QUERY_AFTER)) {
        statement.setFetchSize(PAGE_ROWS);
        statement.setString(1, restaurantId);
        if (after != null) {
          statement.setString(2, after);
        }
        try (ResultSet rows = statement.executeQuery()) {
          while (rows.next()) {
            client.accept(rows.getString(1));
          }
        }
      }
      connection.commit();
      connection.setAutoCommit(true);
    }
  }
}
