package dev.campaignnotifier.io;

import dev.campaignnotifier.model.NotificationBatch;
import dev.campaignnotifier.subscribers.SubscriberTable;
import java.sql.Array;
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
 * sql/003_subscriber_lookup_index.sql}, so a favourite removed after the snapshot was read, after a
 * held campaign's fan-out was planned or before the late step reached it gets nothing. A removal
 * after the rows are written takes nothing back.
 */
final class Favourites {
  private static final Logger LOG = LoggerFactory.getLogger(Favourites.class);

  /** The (restaurant, client) pairs asked about that are still in the table. */
  static final String STILL =
      "SELECT DISTINCT s.restaurant_id, s.client_id FROM public.subscribers_restaurants s"
          + " JOIN unnest(?::text[], ?::text[]) AS w(restaurant_id, client_id)"
          + " ON s.restaurant_id = w.restaurant_id AND s.client_id = w.client_id";

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

  /**
   * For each slice, its {@code clients} who still have the slice's restaurant in favourites, in
   * their order.
   */
  static List<List<String>> keep(
      Connection connection, List<NotificationBatch> slices, List<List<String>> clients)
      throws SQLException {
    List<String> restaurants = new ArrayList<>();
    List<String> asked = new ArrayList<>();
    for (int i = 0; i < slices.size(); i++) {
      String restaurant = slices.get(i).campaign().restaurantId();
      for (String client : clients.get(i)) {
        restaurants.add(restaurant);
        asked.add(client);
      }
    }
    Set<String> still = new HashSet<>();
    if (!asked.isEmpty()) {
      try (PreparedStatement s = connection.prepareStatement(STILL)) {
        Array r = connection.createArrayOf("text", restaurants.toArray());
        Array c = connection.createArrayOf("text", asked.toArray());
        s.setArray(1, r);
        s.setArray(2, c);
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
