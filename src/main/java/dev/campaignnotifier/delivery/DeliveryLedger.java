package dev.campaignnotifier.delivery;

import dev.campaignnotifier.model.Slice;
import dev.campaignnotifier.ops.CampaignProgress;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;

/**
 * {@code campaign_slices} ({@code sql/service/V1__campaign_slices.sql}): which slices of which
 * fan-out have been recorded, so that a restart can tell a campaign that was fully delivered from
 * one that was cut short, and skip the first without reading its feedback rows. A slice's ledger
 * row is written in the transaction that records the slice's feedback rows ({@link SliceDelivery}),
 * so it exists exactly when they do; a fan-out numbers its slices and says on the last how many it
 * made. A campaign is finished when, for one of its fan-outs, the rows of slices 1..n are all
 * there: a read of about one row per 2,000 subscribers instead of one per subscriber.
 */
public final class DeliveryLedger {
  static final String RECORD =
      "INSERT INTO public.campaign_slices (adv_campaign_id, fanout_id, slice, of_slices)"
          + " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING";

  /**
   * The campaigns (of those asked) with a fan-out whose last slice says how many it made and whose
   * slices are all there; each ledger row read once.
   */
  static final String FINISHED_AMONG =
      "SELECT DISTINCT adv_campaign_id FROM public.campaign_slices"
          + " WHERE adv_campaign_id = ANY(?) GROUP BY adv_campaign_id, fanout_id"
          + " HAVING max(of_slices) = count(*) FILTER (WHERE slice > 0)";

  /**
   * The campaigns (of those asked) with at least one slice recorded: a fan-out under way or done.
   */
  static final String BEGUN_AMONG =
      "SELECT DISTINCT adv_campaign_id FROM public.campaign_slices WHERE adv_campaign_id = ANY(?)";

  /**
   * How far one fan-out has got: its slices recorded, whether the last is one of them, and the
   * milliseconds from the first recorded to the last (the server's clock).
   */
  static final String PROGRESS =
      "SELECT count(*) FILTER (WHERE slice > 0), count(*) FILTER (WHERE of_slices > 0),"
          + " coalesce(extract(epoch FROM max(recorded_at) - min(recorded_at)) * 1000, 0)"
          + " FROM public.campaign_slices WHERE adv_campaign_id = ? AND fanout_id = ?";

  /**
   * For each campaign asked: whether one of its fan-outs is recorded in full, and whether anyone
   * has a feedback row of it; every campaign of a bundle in one round trip.
   */
  static final String BEFORE_AMONG =
      "SELECT asked.id, EXISTS (SELECT 1 FROM public.campaign_slices WHERE adv_campaign_id ="
          + " asked.id GROUP BY fanout_id HAVING max(of_slices) = count(*) FILTER (WHERE slice >"
          + " 0)), EXISTS (SELECT 1 FROM public.subscribers_feedback WHERE adv_campaign_id ="
          + " asked.id) FROM unnest(?::text[]) AS asked(id)";

  /** What an earlier fan-out delivered of a campaign. */
  public enum Before {
    NOTHING,
    /** Some clients have a feedback row: a fan-out skips them. */
    SOME,
    /** A fan-out of it was delivered and recorded in full. */
    IN_FULL
  }

  private DeliveryLedger() {}

  /**
   * What was delivered before of each campaign of {@code campaignIds} ({@link #BEFORE_AMONG}), read
   * in auto-commit: one round trip, where a read in the pool's transaction takes a second one for
   * its rollback.
   */
  public static Map<String, Before> beforeAmong(
      DataSource dataSource, Collection<String> campaignIds) throws SQLException {
    Map<String, Before> before = new HashMap<>();
    if (campaignIds.isEmpty()) {
      return before;
    }
    try (Connection connection = dataSource.getConnection()) {
      connection.setAutoCommit(true);
      try (PreparedStatement s = connection.prepareStatement(BEFORE_AMONG)) {
        s.setArray(1, connection.createArrayOf("text", new HashSet<>(campaignIds).toArray()));
        try (ResultSet r = s.executeQuery()) {
          while (r.next()) {
            before.put(
                r.getString(1),
                r.getBoolean(2) ? Before.IN_FULL : r.getBoolean(3) ? Before.SOME : Before.NOTHING);
          }
        }
      }
    }
    return before;
  }

  /** The slice's ledger row, on the connection (and in the transaction) that records its rows. */
  static void record(Connection connection, Slice slice) throws SQLException {
    if (slice.fanOutId() == null) {
      return;
    }
    try (PreparedStatement s = connection.prepareStatement(RECORD)) {
      s.setString(1, slice.campaign().advCampaignId());
      s.setString(2, slice.fanOutId());
      s.setInt(3, slice.number());
      if (slice.ofSlices() > 0) {
        s.setInt(4, slice.ofSlices());
      } else {
        s.setNull(4, java.sql.Types.INTEGER);
      }
      s.executeUpdate();
    }
  }

  static final String RECORD_ALL =
      "INSERT INTO public.campaign_slices (adv_campaign_id, fanout_id, slice, of_slices)"
          + " SELECT * FROM unnest(?::text[], ?::text[], ?::int4[], ?::int4[])"
          + " ON CONFLICT DO NOTHING";

  /**
   * The ledger rows of several slices, in the transaction that records their rows: one statement.
   */
  public static void record(Connection connection, List<Slice> slices) throws SQLException {
    if (slices.size() == 1) {
      record(connection, slices.get(0));
      return;
    }
    List<String> campaigns = new ArrayList<>(slices.size());
    List<String> fanOuts = new ArrayList<>(slices.size());
    List<Integer> numbers = new ArrayList<>(slices.size());
    List<Integer> ofSlices = new ArrayList<>(slices.size());
    for (Slice slice : slices) {
      if (slice.fanOutId() == null) {
        continue;
      }
      campaigns.add(slice.campaign().advCampaignId());
      fanOuts.add(slice.fanOutId());
      numbers.add(slice.number());
      ofSlices.add(slice.ofSlices() > 0 ? slice.ofSlices() : null);
    }
    if (campaigns.isEmpty()) {
      return;
    }
    try (PreparedStatement s = connection.prepareStatement(RECORD_ALL)) {
      s.setArray(1, connection.createArrayOf("text", campaigns.toArray()));
      s.setArray(2, connection.createArrayOf("text", fanOuts.toArray()));
      s.setArray(3, connection.createArrayOf("int4", numbers.toArray()));
      s.setArray(4, connection.createArrayOf("int4", ofSlices.toArray()));
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

  /** The campaigns among {@code campaignIds} that {@link #finished}, in one query. */
  public static Set<String> finishedAmong(DataSource dataSource, Collection<String> campaignIds)
      throws SQLException {
    return among(FINISHED_AMONG, dataSource, campaignIds);
  }

  /** The campaigns among {@code campaignIds} with a slice recorded, in one query. */
  public static Set<String> begunAmong(DataSource dataSource, Collection<String> campaignIds)
      throws SQLException {
    return among(BEGUN_AMONG, dataSource, campaignIds);
  }

  private static Set<String> among(String sql, DataSource dataSource, Collection<String> ids)
      throws SQLException {
    Set<String> found = new HashSet<>();
    if (ids.isEmpty()) {
      return found;
    }
    try (Connection connection = dataSource.getConnection();
        PreparedStatement s = connection.prepareStatement(sql)) {
      s.setArray(1, connection.createArrayOf("text", ids.toArray()));
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          found.add(r.getString(1));
        }
      }
    }
    return found;
  }

  /** How many slices of the fan-out are recorded ({@link CampaignProgress}). */
  public static CampaignProgress.Recorded recorded(
      DataSource dataSource, String campaignId, String fanOutId) throws SQLException {
    try (Connection connection = dataSource.getConnection();
        PreparedStatement s = connection.prepareStatement(PROGRESS)) {
      s.setString(1, campaignId);
      s.setString(2, fanOutId);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return new CampaignProgress.Recorded(r.getLong(1), r.getLong(2) > 0, r.getLong(3));
      }
    }
  }

  /** True if every slice of one of the campaign's fan-outs has been recorded. */
  public static boolean finished(DataSource dataSource, String campaignId) throws SQLException {
    return !finishedAmong(dataSource, List.of(campaignId)).isEmpty();
  }
}
