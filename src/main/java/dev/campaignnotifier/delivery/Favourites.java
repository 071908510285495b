package dev.campaignnotifier.delivery;

import dev.campaignnotifier.model.Slice;
import dev.campaignnotifier.subscribers.SubscriberTable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who still has the restaurant in favourites when a notification is made: the delivery asks just
 * before it writes a parcel's rows, one query for the whole parcel through the index of {@code
 * sql/003_subscriber_lookup_index.sql} (a range of it per fan-out slice, a probe per client of a
 * small slice), so a favourite removed after the snapshot was read, after a held campaign's fan-out
 * was planned or before the late step reached it gets nothing. A removal after the rows are written
 * takes nothing back.
 */
final class Favourites {
  private static final Logger LOG = LoggerFactory.getLogger(Favourites.class);

  /**
   * The clients still in the table among those asked about, given as (restaurant, client, group):
   * each group is asked about as one range of the index, from its least client to its greatest in
   * the database's own collation, read in order. A fan-out's slice is one group (a run of the
   * restaurant's clients in order, so the range holds little else); each client of a small slice (a
   * late subscriber, a small campaign) is a group of its own, an exact probe.
   */
  static final String STILL =
      "WITH asked AS (SELECT * FROM unnest(?::text[], ?::text[], ?::int[]) AS a(r, c, g)),"
          + " ranges AS (SELECT g, min(r) AS r, min(c) AS lo, max(c) AS hi FROM asked GROUP BY g)"
          + " SELECT DISTINCT ranges.r, s.client_id FROM ranges CROSS JOIN LATERAL"
          + " (SELECT client_id FROM public.subscribers_restaurants"
          + " WHERE restaurant_id = ranges.r AND client_id BETWEEN ranges.lo AND ranges.hi) s";

  /** Slices of at least this many clients are asked about as one range. */
  static final int RANGE_FROM = 100;

  /** Whether each database has the index that makes {@link #STILL} cheap, asked once per JVM. */
  private static final Map<DataSource, Boolean> INDEXED = new ConcurrentHashMap<>();

  private Favourites() {}

  /**
   * Whether the check can run on {@code postgres}: only with the index on (restaurant_id,
   * client_id), without which each parcel's question would read the whole table. Warned about once.
   */
  static boolean checkable(DataSource postgres) {
    return INDEXED.computeIfAbsent(
        postgres,
        db -> {
          try (Connection c = db.getConnection()) {
            boolean indexed = SubscriberTable.hasLookupIndex(c);
            if (indexed && !defaultCollation(c)) {
              LOG.warn(
                  "public.subscribers_restaurants.client_id has a collation of its own: a favourite"
                      + " removed after the subscribers were read is still notified (the check"
                      + " compares ranges of client ids in the database's default collation).");
              return false;
            }
            if (!indexed) {
              LOG.warn(
                  "public.subscribers_restaurants has no index on (restaurant_id, client_id): a"
                      + " favourite removed after the subscribers were read is still notified."
                      + " Run sql/003_subscriber_lookup_index.sql to check each notification"
                      + " against the table when it is made.");
            }
            return indexed;
          } catch (SQLException e) {
            // Asked again by the next delivery step that starts.
            throw new IllegalStateException("Cannot read the indexes of PostgreSQL", e);
          }
        });
  }

  /** Whether client_id compares in the database's default collation, as {@link #STILL} does. */
  private static boolean defaultCollation(Connection c) throws SQLException {
    try (PreparedStatement s =
            c.prepareStatement(
                "SELECT attcollation = 100 FROM pg_attribute"
                    + " WHERE attrelid = 'public.subscribers_restaurants'::regclass"
                    + " AND attname = 'client_id'");
        ResultSet row = s.executeQuery()) {
      return !row.next() || row.getBoolean(1);
    }
  }

  /**
   * For each slice, its {@code clients} who still have the slice's restaurant in favourites, in
   * their order.
   */
  static List<List<String>> keep(
      Connection connection, List<Slice> slices, List<List<String>> clients) throws SQLException {
    List<String> restaurants = new ArrayList<>();
    List<String> asked = new ArrayList<>();
    List<Integer> groups = new ArrayList<>();
    int group = 0;
    for (int i = 0; i < slices.size(); i++) {
      String restaurant = slices.get(i).campaign().restaurantId();
      boolean range = clients.get(i).size() >= RANGE_FROM;
      for (String client : clients.get(i)) {
        restaurants.add(restaurant);
        asked.add(client);
        groups.add(range ? group : group++);
      }
      if (range) {
        group++;
      }
    }
    Set<String> still = new HashSet<>();
    if (!asked.isEmpty()) {
      try (java.sql.Statement plan = connection.createStatement()) {
        // For the rest of the parcel's transaction: on a small or freshly loaded table the planner
        // reads the whole table rather than the index that checkable() found, and a big table must
        // never be read whole per parcel (BenchmarkIT counts the scans of lookup mode).
        plan.execute("SET LOCAL enable_seqscan = off");
      }
      try (PreparedStatement s = connection.prepareStatement(STILL)) {
        s.setArray(1, connection.createArrayOf("text", restaurants.toArray()));
        s.setArray(2, connection.createArrayOf("text", asked.toArray()));
        s.setArray(3, connection.createArrayOf("integer", groups.toArray()));
        try (ResultSet row = s.executeQuery()) {
          while (row.next()) {
            still.add(pair(row.getString(1), row.getString(2)));
          }
        }
      }
    }
    List<List<String>> kept = new ArrayList<>(slices.size());
    for (int i = 0; i < slices.size(); i++) {
      String restaurant = slices.get(i).campaign().restaurantId();
      List<String> each = new ArrayList<>(clients.get(i).size());
      for (String client : clients.get(i)) {
        if (still.contains(pair(restaurant, client))) {
          each.add(client);
        }
      }
      kept.add(each);
    }
    return kept;
  }

  /** PostgreSQL's text cannot hold U+0000, so it cannot be part of either id. */
  private static String pair(String restaurant, String client) {
    return restaurant + '\u0000' + client;
  }
}
