package dev.campaignnotifier.io;

import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Notification;
import java.sql.Types;
import javax.sql.DataSource;
import org.apache.beam.sdk.io.jdbc.JdbcIO;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;

/**
 * Inserts one {@code subscribers_feedback} row per notification, {@code feedback} NULL. {@code ON
 * CONFLICT DO NOTHING} against the unique index on (adv_campaign_id, client_id) makes every write
 * idempotent, which is what lets the pipeline replay after a failure without duplicating rows.
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
    return notifications
        .apply("CountRows", ParDo.of(new CountFn()))
        .setCoder(Notification.NotificationCoder.of())
        .apply(
            "InsertRows",
            JdbcIO.<Notification>write()
                .withDataSourceProviderFn(dataSource)
                .withStatement(INSERT)
                .withBatchSize(batchSize)
                .withPreparedStatementSetter(WriteFeedbackRows::setRow));
  }

  static void setRow(Notification n, java.sql.PreparedStatement s) throws java.sql.SQLException {
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

  static final class CountFn extends DoFn<Notification, Notification> {
    private final Counter toPostgres = Metrics.counter("sinks", "feedbackRowsToPostgres");

    @ProcessElement
    public void process(@Element Notification n, OutputReceiver<Notification> out) {
      toPostgres.inc();
      out.output(n);
    }
  }
}
