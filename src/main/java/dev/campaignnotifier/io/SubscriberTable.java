package dev.campaignnotifier.io;

import dev.campaignnotifier.model.SubscriberSnapshot;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * Reads {@code subscribers_restaurants} whole. One statement in one read-only transaction is one
 * MVCC snapshot in PostgreSQL, so the result is consistent even while rows are being changed; rows
 * are streamed with a cursor (fetch size) rather than held twice in memory.
 */
public final class SubscriberTable {
  static final String QUERY = "SELECT restaurant_id, client_id FROM public.subscribers_restaurants";
  private static final int FETCH_SIZE = 50_000;

  private SubscriberTable() {}

  public static SubscriberSnapshot read(DataSource dataSource) throws SQLException {
    try (Connection connection = dataSource.getConnection()) {
      boolean autoCommit = connection.getAutoCommit();
      // pgjdbc only streams with a cursor inside a transaction.
      connection.setAutoCommit(false);
      try (PreparedStatement statement = connection.prepareStatement(QUERY)) {
        statement.setFetchSize(FETCH_SIZE);
        SubscriberSnapshot.Builder builder = SubscriberSnapshot.builder();
        try (ResultSet rows = statement.executeQuery()) {
          while (rows.next()) {
            builder.add(rows.getString(1), rows.getString(2));
          }
        }
        connection.commit();
        return builder.build(System.currentTimeMillis());
      } finally {
        connection.setAutoCommit(autoCommit);
      }
    }
  }
}
