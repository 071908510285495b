package dev.campaignnotifier.campaigns;

import dev.campaignnotifier.io.PostgresDataSource;
import dev.campaignnotifier.io.Retry;
import dev.campaignnotifier.model.Campaign;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import javax.sql.DataSource;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link CampaignVersions} in {@code campaign_versions} ({@code
 * sql/service/V3__campaign_versions.sql}). A worker JVM keeps the table in memory, once per
 * database, and reads what changed at most every {@link #POLL_MILLIS}, only when asked: an idle
 * service asks nothing. What changed is read by transaction ({@code V5}): a write that commits late
 * is read by the next look after its commit, never missed. The table holds only campaigns that were
 * published again, until every version of them has ended.
 *
 * <p>One surprise: a version newer than the memory can only come from a step that recorded it
 * first, so a version created in the same second as the remembered one and different from it means
 * the memory is behind: it is read again at once rather than trusted.
 */
final class PostgresCampaignVersions implements CampaignVersions {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(CampaignVersions.class);

  /** How stale the memory of the table may be when a turn or a slice asks. */
  static final long POLL_MILLIS = 200;

  static final String UPSERT =
      "INSERT INTO public.campaign_versions (adv_campaign_id, restaurant_id, content, owner,"
          + " owner_contact, start_epoch, end_epoch, created_epoch, keep_until_epoch,"
          + " recorded_xid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, pg_current_xact_id())"
          + " ON CONFLICT (adv_campaign_id) DO UPDATE SET"
          + " restaurant_id = EXCLUDED.restaurant_id, content = EXCLUDED.content,"
          + " owner = EXCLUDED.owner, owner_contact = EXCLUDED.owner_contact,"
          + " start_epoch = EXCLUDED.start_epoch, end_epoch = EXCLUDED.end_epoch,"
          + " created_epoch = EXCLUDED.created_epoch,"
          + " keep_until_epoch = greatest(campaign_versions.keep_until_epoch,"
          + " EXCLUDED.keep_until_epoch), changed_at = now(),"
          + " recorded_xid = pg_current_xact_id()";

  /**
   * {@link #UPSERT} unless the row holds a version created later: the pipeline records versions in
   * the order it reads them, and a version read ahead of it ({@code EndsReadAhead}: a "sold out"
   * published after an update) is newer than what the pipeline records meanwhile; it was replaced
   * by the older update until the pipeline read it too.
   */
  static final String UPSERT_UNLESS_NEWER =
      UPSERT + " WHERE EXCLUDED.created_epoch >= campaign_versions.created_epoch";

  static final String FORGET = "DELETE FROM public.campaign_versions WHERE keep_until_epoch < ?";

  /**
   * Always one row, carrying where the next read starts (the oldest transaction still running now:
   * one that commits after this read is read by the next), then the rows written by transactions
   * from {@code ?} on (V5).
   */
  static final String CHANGED_SINCE =
      "SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS next_from, v.adv_campaign_id,"
          + " v.restaurant_id, v.content, v.owner, v.owner_contact, v.start_epoch, v.end_epoch,"
          + " v.created_epoch, v.keep_until_epoch"
          + " FROM (SELECT 1) AS one LEFT JOIN public.campaign_versions v"
          + " ON v.recorded_xid >= ?::xid8";

  /**
   * One memory of the table per database in a worker JVM, shared by every step and thread that asks
   * (as the connection pools are, {@link PostgresDataSource}): one read per {@link #POLL_MILLIS}
   * however many delivery threads run, and never a read while none asks.
   */
  private static final Map<SerializableFunction<Void, DataSource>, View> VIEWS =
      new ConcurrentHashMap<>();

  private final SerializableFunction<Void, DataSource> dataSource;

  PostgresCampaignVersions(SerializableFunction<Void, DataSource> dataSource) {
    this.dataSource = dataSource;
  }

  @Override
  public Campaign newest(Campaign campaign) throws InterruptedException {
    return VIEWS.computeIfAbsent(dataSource, View::new).newest(campaign);
  }

  @Override
  public void record(Campaign newest, long keepUntilEpochSecond) throws InterruptedException {
    upsert(
        UPSERT_UNLESS_NEWER,
        newest,
        keepUntilEpochSecond,
        Metrics.counter("campaigns", "postgresRetries")::inc);
  }

  @Override
  public void recordAhead(Campaign version, long keepUntilEpochSecond) throws InterruptedException {
    // Outside the pipeline: no Beam counter to count retries on.
    upsert(UPSERT_UNLESS_NEWER, version, keepUntilEpochSecond, () -> {});
  }

  private void upsert(String sql, Campaign newest, long keepUntilEpochSecond, Runnable onRetry)
      throws InterruptedException {
    Retry.sql(
        "record the new version of campaign " + newest.advCampaignId(),
        LOG,
        onRetry,
        () -> {
          try (Connection c = dataSource.apply(null).getConnection()) {
            c.setAutoCommit(true);
            try (PreparedStatement s = c.prepareStatement(sql)) {
              s.setString(1, newest.advCampaignId());
              s.setString(2, newest.restaurantId());
              s.setString(3, newest.content());
              s.setString(4, newest.owner());
              s.setString(5, newest.ownerContact());
              s.setLong(6, newest.startEpochSecond());
              s.setLong(7, newest.endEpochSecond());
              s.setLong(8, newest.createdEpochSecond());
              s.setLong(9, keepUntilEpochSecond);
              s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement(FORGET)) {
              s.setLong(1, System.currentTimeMillis() / 1000 - 60);
              s.executeUpdate();
            }
          }
          return null;
        });
  }

  record Kept(Campaign campaign, long keepUntilEpochSecond) {}

  /** Rows of the table written since a transaction, and where the next read starts. */
  interface Rows {
    /** The first read's start: every row. */
    String FIRST = "0";

    /**
     * Fills {@code changed} with the rows written by transactions from {@code from} on; returns
     * where the next read starts.
     */
    String changedSince(String from, Map<String, Kept> changed) throws InterruptedException;
  }

  /** The table's rows in memory, read again when older than {@link #POLL_MILLIS}. */
  static final class View {
    private final Rows rows;
    private final LongSupplier nowSecond;
    private Map<String, Kept> known;
    private String readFrom = Rows.FIRST;
    private long readAtNanos;

    View(SerializableFunction<Void, DataSource> dataSource) {
      this(tableOf(dataSource), () -> System.currentTimeMillis() / 1000);
    }

    /**
     * @param rows where the rows are read from
     * @param nowSecond the wall clock: a row kept until before it is forgotten
     */
    View(Rows rows, LongSupplier nowSecond) {
      this.rows = rows;
      this.nowSecond = nowSecond;
    }

    synchronized Campaign newest(Campaign campaign) throws InterruptedException {
      if (known == null || System.nanoTime() - readAtNanos >= POLL_MILLIS * 1_000_000L) {
        read();
      }
      Kept kept = known.get(campaign.advCampaignId());
      if (kept != null
          && kept.campaign().createdEpochSecond() == campaign.createdEpochSecond()
          && !kept.campaign().equals(campaign)) {
        read();
        // Gone if every version of it ended meanwhile: then the campaign is as it was asked.
        kept = known.get(campaign.advCampaignId());
      }
      return kept != null && kept.campaign().supersedes(campaign) ? kept.campaign() : campaign;
    }

    /** Reads the rows changed since the last read (all of them the first time). */
    private void read() throws InterruptedException {
      Map<String, Kept> changed = new HashMap<>();
      String next = rows.changedSince(readFrom, changed);
      if (known == null) {
        known = new HashMap<>();
      }
      known.putAll(changed);
      long now = nowSecond.getAsLong();
      known.values().removeIf(k -> k.keepUntilEpochSecond() < now);
      readFrom = next;
      readAtNanos = System.nanoTime();
    }
  }

  /** {@link Rows} of {@code campaign_versions}, read by column name. */
  private static Rows tableOf(SerializableFunction<Void, DataSource> dataSource) {
    return (from, changed) -> {
      String[] next = new String[1];
      Retry.sql(
          "read the campaigns published again",
          LOG,
          () -> {},
          () -> {
            changed.clear();
            try (Connection c = dataSource.apply(null).getConnection()) {
              c.setAutoCommit(true);
              try (PreparedStatement s = c.prepareStatement(CHANGED_SINCE)) {
                s.setString(1, from);
                try (ResultSet r = s.executeQuery()) {
                  while (r.next()) {
                    next[0] = r.getString("next_from");
                    if (r.getString("adv_campaign_id") != null) {
                      Campaign campaign = CampaignVersions.campaignOf(r);
                      changed.put(
                          campaign.advCampaignId(),
                          new Kept(campaign, r.getLong("keep_until_epoch")));
                    }
                  }
                }
              }
            }
            return null;
          });
      return next[0];
    };
  }
}
