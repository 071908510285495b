package dev.campaignnotifier.late;

import dev.campaignnotifier.campaigns.CampaignVersions;
import dev.campaignnotifier.io.Retry;
import dev.campaignnotifier.model.Campaign;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PDone;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The campaigns active now, in {@code campaign_active} ({@code
 * sql/service/V4__campaign_active.sql}): written by the pipeline ({@link #record}) where the late
 * step runs beside it ({@link LateInDriver}), read by that step. A row holds a campaign's newest
 * version: a version replaces the row's only where it supersedes it ({@link Campaign#supersedes}),
 * and is then stamped as recorded now, so the watcher reads it again.
 */
public final class ActiveCampaigns {
  private static final Logger LOG = LoggerFactory.getLogger(ActiveCampaigns.class);

  static final String RECORD =
      "INSERT INTO public.campaign_active AS a (adv_campaign_id, restaurant_id, content, owner,"
          + " owner_contact, start_epoch, end_epoch, created_epoch)"
          + " SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[],"
          + " ?::int8[], ?::int8[], ?::int8[])"
          + " ON CONFLICT (adv_campaign_id) DO UPDATE SET restaurant_id = EXCLUDED.restaurant_id,"
          + " content = EXCLUDED.content, owner = EXCLUDED.owner,"
          + " owner_contact = EXCLUDED.owner_contact, start_epoch = EXCLUDED.start_epoch,"
          + " end_epoch = EXCLUDED.end_epoch, created_epoch = EXCLUDED.created_epoch,"
          + " recorded_xid = pg_current_xact_id(), recorded_at = now()"
          + " WHERE EXCLUDED.created_epoch > a.created_epoch"
          + " OR (EXCLUDED.created_epoch = a.created_epoch AND (EXCLUDED.restaurant_id,"
          + " EXCLUDED.content, EXCLUDED.owner, EXCLUDED.owner_contact, EXCLUDED.start_epoch,"
          + " EXCLUDED.end_epoch) IS DISTINCT FROM (a.restaurant_id, a.content, a.owner,"
          + " a.owner_contact, a.start_epoch, a.end_epoch))";

  /**
   * Always one row, carrying where the next read starts (the oldest transaction still running now:
   * a write not yet committed is read then), then the rows of transactions from {@code ?} on.
   */
  static final String RECORDED_SINCE =
      "SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS next_from, a.adv_campaign_id,"
          + " a.restaurant_id, a.content, a.owner, a.owner_contact, a.start_epoch, a.end_epoch,"
          + " a.created_epoch FROM (SELECT 1) AS one LEFT JOIN public.campaign_active a"
          + " ON a.recorded_xid >= ?::xid8";

  static final String FORGET = "DELETE FROM public.campaign_active WHERE end_epoch < ?";

  private ActiveCampaigns() {}

  /** Records each bundle's campaigns in one statement. */
  public static PTransform<PCollection<Campaign>, PDone> record(
      SerializableFunction<Void, DataSource> postgres) {
    return new PTransform<>() {
      @Override
      public PDone expand(PCollection<Campaign> active) {
        active.apply("Record", ParDo.of(new RecordFn(postgres)));
        return PDone.in(active.getPipeline());
      }
    };
  }

  /** Gathers a bundle's campaigns and records them (the newest version of each) as it ends. */
  static final class RecordFn extends DoFn<Campaign, Void> {
    private final SerializableFunction<Void, DataSource> postgres;
    private transient List<Campaign> bundle;

    RecordFn(SerializableFunction<Void, DataSource> postgres) {
      this.postgres = postgres;
    }

    @StartBundle
    public void startBundle() {
      bundle = new ArrayList<>();
    }

    @ProcessElement
    public void process(@Element Campaign campaign) {
      bundle.add(campaign);
    }

    @FinishBundle
    public void finishBundle() throws InterruptedException {
      if (!bundle.isEmpty()) {
        write(postgres.apply(null), bundle, Metrics.counter("campaigns", "postgresRetries")::inc);
      }
    }
  }

  /** The newest version of each campaign among {@code campaigns}, in their order. */
  static Collection<Campaign> newestOf(Collection<Campaign> campaigns) {
    Map<String, Campaign> newest = new LinkedHashMap<>();
    for (Campaign campaign : campaigns) {
      newest.merge(campaign.advCampaignId(), campaign, (held, c) -> c.supersedes(held) ? c : held);
    }
    return newest.values();
  }

  /**
   * Records the campaigns, the newest version of each (one statement cannot write a row twice),
   * waiting out an outage of PostgreSQL.
   */
  static void write(DataSource db, Collection<Campaign> all, Runnable onRetry)
      throws InterruptedException {
    Collection<Campaign> campaigns = newestOf(all);
    int n = campaigns.size();
    String[][] text = new String[5][n];
    Long[][] epochs = new Long[3][n];
    int i = 0;
    for (Campaign c : campaigns) {
      text[0][i] = c.advCampaignId();
      text[1][i] = c.restaurantId();
      text[2][i] = c.content();
      text[3][i] = c.owner();
      text[4][i] = c.ownerContact();
      epochs[0][i] = c.startEpochSecond();
      epochs[1][i] = c.endEpochSecond();
      epochs[2][i] = c.createdEpochSecond();
      i++;
    }
    Retry.sql(
        "record " + n + " active campaign(s)",
        LOG,
        onRetry,
        () -> {
          try (Connection c = db.getConnection()) {
            c.setAutoCommit(true);
            try (PreparedStatement s = c.prepareStatement(RECORD)) {
              for (int column = 0; column < 5; column++) {
                s.setArray(column + 1, c.createArrayOf("text", text[column]));
              }
              for (int column = 0; column < 3; column++) {
                s.setArray(column + 6, c.createArrayOf("int8", epochs[column]));
              }
              s.executeUpdate();
            }
          }
          return null;
        });
  }

  /**
   * The campaigns recorded by transactions from one on, and the transaction the next read starts
   * from (PostgreSQL's 64-bit transaction ids, as text).
   */
  record Read(String nextFrom, List<Campaign> campaigns) {
    /** Where the first read starts: every row. */
    static final String FIRST = "0";
  }

  /**
   * The rows written by transaction {@code from} and later ones, ended ones too (a version that
   * ends a campaign now replaces the one held); throws while PostgreSQL is unavailable (the watcher
   * asks again at its next look).
   */
  static Read recordedSince(DataSource db, String from) throws SQLException {
    List<Campaign> campaigns = new ArrayList<>();
    String next = from;
    try (Connection c = db.getConnection()) {
      c.setAutoCommit(true);
      try (PreparedStatement s = c.prepareStatement(RECORDED_SINCE)) {
        s.setString(1, from);
        try (ResultSet r = s.executeQuery()) {
          while (r.next()) {
            next = r.getString("next_from");
            if (r.getString("adv_campaign_id") != null) {
              campaigns.add(CampaignVersions.campaignOf(r));
            }
          }
        }
      }
    }
    return new Read(next, campaigns);
  }

  /** Deletes the rows of campaigns that ended before {@code beforeSecond}. */
  static int forgetEnded(DataSource db, long beforeSecond) throws SQLException {
    try (Connection c = db.getConnection()) {
      c.setAutoCommit(true);
      try (PreparedStatement s = c.prepareStatement(FORGET)) {
        s.setLong(1, beforeSecond);
        return s.executeUpdate();
      }
    }
  }
}
