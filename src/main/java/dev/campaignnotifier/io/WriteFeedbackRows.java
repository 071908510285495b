package dev.campaignnotifier.io;

import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Notification;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.joda.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Inserts one {@code subscribers_feedback} row per notification, {@code feedback} NULL. {@code ON
 * CONFLICT DO NOTHING} against the unique index on (adv_campaign_id, client_id) makes every write
 * idempotent, which is what lets a runner replay a bundle after a failure without duplicating rows.
 *
 * <p>Why not {@code JdbcIO.write()}: on an unbounded input it puts every row on one key and batches
 * with {@code GroupIntoBatches}, so all rows go through a single writer, and the Spark runner
 * refuses it outright ({@code onWindowExpiration is not supported}). This writer uses JdbcIO's
 * connection handling ({@link PostgresDataSource}) but batches per bundle, the way JdbcIO does for
 * bounded input: rows are flushed every {@code batchSize} and at the end of each bundle, so a
 * bundle only commits once its rows are in PostgreSQL. It needs no state or timers, so every runner
 * takes the same path, and it writes from as many workers as the fan-out runs on.
 */
public final class WriteFeedbackRows extends PTransform<PCollection<Notification>, PDone> {
  static final String INSERT =
      "INSERT INTO public.subscribers_feedback (restaurant_id, adv_campaign_id,"
          + " adv_campaign_content, adv_campaign_owner, adv_campaign_owner_contact,"
          + " adv_campaign_datetime_start, adv_campaign_datetime_end, datetime_created, client_id,"
          + " trigger_datetime_created, feedback)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";

  private final SerializableFunction<Void, DataSource> dataSource;
  private final int batchSize;

  public WriteFeedbackRows(SerializableFunction<Void, DataSource> dataSource, int batchSize) {
    this.dataSource = dataSource;
    this.batchSize = batchSize;
  }

  @Override
  public PDone expand(PCollection<Notification> notifications) {
    notifications.apply("InsertRows", ParDo.of(new InsertFn(dataSource, batchSize)));
    return PDone.in(notifications.getPipeline());
  }

  static void setRow(Notification n, PreparedStatement s) throws SQLException {
    Campaign c = n.campaign();
    s.setString(1, c.restaurantId());
    s.setString(2, c.advCampaignId());
    s.setString(3, c.content());
    s.setString(4, c.owner());
    s.setString(5, c.ownerContact());
    s.setLong(6, c.startEpochSecond());
    s.setLong(7, c.endEpochSecond());
    s.setLong(8, c.createdEpochSecond());
    s.setString(9, n.clientId());
    // The brief's column is int4: this fails loudly after 2038-01-19 rather than wrapping.
    s.setInt(10, Math.toIntExact(n.triggerEpochSecond()));
    s.setNull(11, Types.VARCHAR);
  }

  static final class InsertFn extends DoFn<Notification, Void> {
    private static final Logger LOG = LoggerFactory.getLogger(WriteFeedbackRows.class);
    private static final Duration FIRST_BACKOFF = Duration.millis(200);
    private static final Duration MAX_BACKOFF = Duration.standardSeconds(10);

    private final SerializableFunction<Void, DataSource> dataSource;
    private final int batchSize;
    private final Counter written = Metrics.counter("sinks", "feedbackRowsToPostgres");
    private final Counter retries = Metrics.counter("sinks", "postgresRetries");
    private transient List<Notification> batch;

    InsertFn(SerializableFunction<Void, DataSource> dataSource, int batchSize) {
      this.dataSource = dataSource;
      this.batchSize = batchSize;
    }

    @StartBundle
    public void startBundle() {
      batch = new ArrayList<>(batchSize);
    }

    @ProcessElement
    public void process(@Element Notification n) throws InterruptedException {
      batch.add(n);
      if (batch.size() >= batchSize) {
        flush();
      }
    }

    @FinishBundle
    public void finishBundle() throws InterruptedException {
      flush();
    }

    /**
     * Writes the batch in one transaction. A lost connection or a database that is restarting is
     * waited out with capped exponential backoff, logged at every attempt; any other error (a
     * missing table, a constraint other than the unique index) fails the bundle at once.
     */
    private void flush() throws InterruptedException {
      if (batch.isEmpty()) {
        return;
      }
      Duration backoff = FIRST_BACKOFF;
      for (int attempt = 1; ; attempt++) {
        try {
          insert(batch);
          written.inc(batch.size());
          batch.clear();
          return;
        } catch (SQLException e) {
          if (!isTransient(e)) {
            throw new IllegalStateException(
                "Cannot write " + batch.size() + " feedback rows: " + e.getMessage(), e);
          }
          retries.inc();
          LOG.warn(
              "PostgreSQL unavailable writing {} feedback rows (attempt {}, SQLState {}): {};"
                  + " retrying in {} ms",
              batch.size(),
              attempt,
              e.getSQLState(),
              e.getMessage(),
              backoff.getMillis());
          Thread.sleep(backoff.getMillis());
          backoff = Duration.millis(Math.min(backoff.getMillis() * 2, MAX_BACKOFF.getMillis()));
        }
      }
    }

    private void insert(List<Notification> rows) throws SQLException {
      try (Connection connection = dataSource.apply(null).getConnection()) {
        connection.setAutoCommit(false);
        try (PreparedStatement statement = connection.prepareStatement(INSERT)) {
          for (Notification n : rows) {
            setRow(n, statement);
            statement.addBatch();
          }
          statement.executeBatch();
          connection.commit();
        } catch (SQLException e) {
          connection.rollback();
          throw e;
        }
      }
    }

    /**
     * Connection problems (SQLState class 08), the server shutting down or starting (57P01-57P03),
     * and serialization or deadlock failures (40001, 40P01) pass; anything else will not.
     */
    static boolean isTransient(SQLException e) {
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
}
