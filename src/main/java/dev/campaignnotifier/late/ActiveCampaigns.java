package dev.campaignnotifier.late;

import dev.campaignnotifier.campaigns.CampaignVersions;
import dev.campaignnotifier.io.Retry;
import dev.campaignnotifier.model.Campaign;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
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
          + " recorded_at = now()"
          + " WHERE EXCLUDED.created_epoch > a.created_epoch"
          + " OR (EXCLUDED.created_epoch = a.created_epoch AND (EXCLUDED.restaurant_id,"
          + " EXCLUDED.content, EXCLUDED.owner, EXCLUDED.owner_contact, EXCLUDED.start_epoch,"
          + " EXCLUDED.end_epoch) IS DISTINCT FROM (a.restaurant_id, a.content, a.owner,"
          + " a.owner_contact, a.start_epoch, a.end_epoch))";

  /** Always one row, carrying the server's time of the read, then the rows recorded since. */
  static final String RECORDED_SINCE =
      "SELECT statement_timestamp() AS read_at, a.adv_campaign_id, a.restaurant_id, a.content,"
          + " a.owner, a.owner_contact, a.start_epoch, a.end_epoch, a.created_epoch"
          + " FROM (SELECT 1) AS one LEFT JOIN public.campaign_active a"
          + " ON a.recorded_at >= ?";

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

  /** Gathers a bundle's campaigns (the newest version of each) and records them as it ends. */
  static final class RecordFn extends DoFn<Campaign, Void> {
    private final SerializableFunction<Void, DataSource> postgres;
    private transient Map<String, Campaign> bundle;

    RecordFn(SerializableFunction<Void, DataSource> postgres) {
      this.postgres = postgres;
    }

    @StartBundle
    public void startBundle() {
      bundle = new LinkedHashMap<>();
    }

    @ProcessElement
    public void process(@Element Campaign campaign) {
      bundle.merge(campaign.advCampaignId(), campaign, (held, c) -> c.supersedes(held) ? c : held);
    }

    @FinishBundle
    public void finishBundle() throws InterruptedException {
      if (!bundle.isEmpty()) {
        write(
            postgres.apply(null),
            bundle.values(),
            Metrics.counter("campaigns", "postgresRetries")::inc);
      }
    }
  }

  /** Records the campaigns, waiting out an outage of PostgreSQL. */
  static void write(DataSource db, Collection<Campaign> campaigns, Runnable onRetry)
      throws InterruptedException {
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

  /** The campaigns recorded since a moment, and the server's time of the read. */
  record Read(Timestamp at, List<Campaign> campaigns) {}

  /**
   * The rows recorded since {@code from}, ended ones too (a version that ends a campaign now
   * replaces the one held); throws while PostgreSQL is unavailable (the watcher asks again at its
   * next look).
   */
  static Read recordedSince(DataSource db, Timestamp from) throws SQLException {
    List<Campaign> campaigns = new ArrayList<>();
    Timestamp at = null;
    try (Connection c = db.getConnection()) {
      c.setAutoCommit(true);
      try (PreparedStatement s = c.prepareStatement(RECORDED_SINCE)) {
        s.setTimestamp(1, from);
        try (ResultSet r = s.executeQuery()) {
          while (r.next()) {
            at = r.getTimestamp("read_at");
            if (r.getString("adv_campaign_id") != null) {
              campaigns.add(CampaignVersions.campaignOf(r));
            }
          }
        }
      }
    }
    return new Read(at, campaigns);
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
