package dev.campaignnotifier.io;

import dev.campaignnotifier.model.NotificationBatch;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * {@code campaign_slices} ({@code sql/004_campaign_slices.sql}): which slices of which fan-out have
 * been recorded, so that a restart can tell a campaign that was fully delivered from one that was
 * cut short, and skip the first without reading its feedback rows. A slice's ledger row is written
 * in the transaction that records the slice's feedback rows ({@link FeedbackTable#insert}), so it
 * exists exactly when they do; a fan-out numbers its slices and says on the last how many it made.
 * A campaign is finished when, for one of its fan-outs, the rows of slices 1..n are all there: a
 * read of about one row per 2,000 subscribers instead of one per subscriber.
 */
public final class DeliveryLedger {
  static final String RECORD =
      "INSERT INTO public.campaign_slices (adv_campaign_id, fanout_id, slice, of_slices)"
          + " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING";

  static final String FINISHED =
      "SELECT EXISTS (SELECT 1 FROM public.campaign_slices l"
          + " WHERE l.adv_campaign_id = ? AND l.of_slices IS NOT NULL"
          + " AND l.of_slices = (SELECT count(*) FROM public.campaign_slices s"
          + " WHERE s.adv_campaign_id = l.adv_campaign_id AND s.fanout_id = l.fanout_id"
          + " AND s.slice > 0))";

  private DeliveryLedger() {}

  /** The slice's ledger row, on the connection (and in the transaction) that records its rows. */
  static void record(Connection connection, NotificationBatch slice) throws SQLException {
    if (slice.fanOutId() == null) {
      return;
    }
    try (PreparedStatement s = connection.prepareStatement(RECORD)) {
      s.setString(1, slice.campaign().advCampaignId());
      s.setString(2, slice.fanOutId());
      s.setInt(3, slice.slice());
      if (slice.ofSlices() > 0) {
        s.setInt(4, slice.ofSlices());
      } else {
        s.setNull(4, java.sql.Types.INTEGER);
      }
      s.executeUpdate();
    }
  }

  /** A fan-out that had nobody left to notify: the campaign is finished as it stands. */
  public static void recordEmptyFanOut(DataSource dataSource, String campaignId, String fanOutId)
      throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement s = connection.prepareStatement(RECORD)) {
      connection.setAutoCommit(false);
      s.setString(1, campaignId);
      s.setString(2, fanOutId);
      s.setInt(3, 0);
      s.setInt(4, 0);
      s.executeUpdate();
      connection.commit();
    }
  }

  /** True if every slice of one of the campaign's fan-outs has been recorded. */
  public static boolean finished(DataSource dataSource, String campaignId) throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement s = connection.prepareStatement(FINISHED)) {
      s.setString(1, campaignId);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getBoolean(1);
      }
    }
  }
}
