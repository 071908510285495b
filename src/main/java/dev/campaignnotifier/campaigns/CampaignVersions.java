package dev.campaignnotifier.campaigns;

import dev.campaignnotifier.model.Campaign;
import java.io.Serializable;
import java.sql.ResultSet;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.apache.beam.sdk.transforms.SerializableFunction;

/**
 * The newest version of each campaign a restaurant published again (an update, a "sold out", a
 * cancellation): recorded by the step that reads the versions in order ({@code ScheduleCampaigns}),
 * asked by the fan-out before each turn and by the delivery before each slice. The slices of a
 * fan-out are already on their way to the workers when an update arrives, so the update cannot
 * travel with them: it is found where they are delivered. A campaign never published again costs
 * nothing but a lookup in memory.
 */
public interface CampaignVersions extends Serializable {
  /** The newest version known of {@code campaign}: itself unless a newer one was recorded. */
  Campaign newest(Campaign campaign) throws InterruptedException;

  /**
   * Records {@code newest} as the campaign's newest version, to be kept until {@code
   * keepUntilEpochSecond} (the latest end any version of it had).
   */
  void record(Campaign newest, long keepUntilEpochSecond) throws InterruptedException;

  /**
   * Records {@code version}, read from the input ahead of the pipeline ({@code EndsReadAhead}),
   * unless a version created later is recorded already; the pipeline records it again when it reads
   * it.
   */
  default void recordAhead(Campaign version, long keepUntilEpochSecond)
      throws InterruptedException {
    record(version, keepUntilEpochSecond);
  }

  /** No versions: every campaign is as it was first read (tests, the benchmark's floor). */
  CampaignVersions NONE = new None();

  /** The versions in {@code campaign_versions} ({@link PostgresCampaignVersions}). */
  static CampaignVersions inPostgres(SerializableFunction<Void, DataSource> dataSource) {
    return new PostgresCampaignVersions(dataSource);
  }

  /** See {@link #NONE}. */
  final class None implements CampaignVersions {
    private static final long serialVersionUID = 1L;

    private None() {}

    @Override
    public Campaign newest(Campaign campaign) {
      return campaign;
    }

    @Override
    public void record(Campaign newest, long keepUntilEpochSecond) {}

    private Object readResolve() {
      return NONE;
    }
  }

  /**
   * The campaign of a row of a table that holds campaigns by the contract's column names ({@code
   * campaign_versions}, {@code campaign_active}): a field added to the campaign is read here once.
   */
  static Campaign campaignOf(ResultSet row) throws SQLException {
    return new Campaign(
        row.getString("restaurant_id"),
        row.getString("adv_campaign_id"),
        row.getString("content"),
        row.getString("owner"),
        row.getString("owner_contact"),
        row.getLong("start_epoch"),
        row.getLong("end_epoch"),
        row.getLong("created_epoch"));
  }
}
