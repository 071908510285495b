package dev.campaignnotifier.campaigns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.campaignnotifier.io.PostgresDataSource;
import dev.campaignnotifier.it.LocalServers;
import dev.campaignnotifier.local.EmbeddedPostgresServer;
import dev.campaignnotifier.model.Campaign;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** {@code campaign_versions} on a real PostgreSQL, as a worker's memory reads it. */
class PostgresCampaignVersionsIT {
  private final PostgresDataSource postgres =
      new PostgresDataSource(
          LocalServers.postgres().createDatabase(LocalServers.unique("versions"), false),
          EmbeddedPostgresServer.USER,
          null,
          null);

  /**
   * A restaurant ends its campaign now, and the version's recording commits long after its
   * statement started (a slow disk's commit, a lock): the worker's next look after the commit still
   * reads it, so the delivery stops sending the campaign. The transaction is held open for 5.5 s,
   * longer than the 5 s a read by time looked back, because its start is PostgreSQL's clock, which
   * the test cannot script; the 250 ms after the commit are the memory's own poll period.
   */
  @Test
  void aVersionRecordedByATransactionThatCommitsLateIsStillRead() throws Exception {
    long now = Instant.now().getEpochSecond();
    Campaign running =
        new Campaign("r", "slow", "10% off", "o", "oc", now - 10, now + 3600, now - 100);
    Campaign endedNow =
        new Campaign("r", "slow", "10% off", "o", "oc", now - 10, now - 1, now - 50);
    PostgresCampaignVersions.View view = new PostgresCampaignVersions.View(postgres);
    assertSame(running, view.newest(running));
    try (Connection slow = postgres.apply(null).getConnection();
        PreparedStatement s = slow.prepareStatement(PostgresCampaignVersions.UPSERT)) {
      slow.setAutoCommit(false);
      s.setString(1, endedNow.advCampaignId());
      s.setString(2, endedNow.restaurantId());
      s.setString(3, endedNow.content());
      s.setString(4, endedNow.owner());
      s.setString(5, endedNow.ownerContact());
      s.setLong(6, endedNow.startEpochSecond());
      s.setLong(7, endedNow.endEpochSecond());
      s.setLong(8, endedNow.createdEpochSecond());
      s.setLong(9, running.endEpochSecond());
      s.executeUpdate();
      Thread.sleep(5_500);
      assertSame(running, view.newest(running), "not committed yet");
      slow.commit();
    }
    Thread.sleep(PostgresCampaignVersions.POLL_MILLIS + 50);
    assertEquals(endedNow, view.newest(running));
  }

  /**
   * A restaurant updates its campaign, then ends it now ("sold out"); the end is read ahead of the
   * pipeline and recorded first ({@code EndsReadAhead}), the update then by the pipeline: the newer
   * version stays (on the code before, the update replaced it until the pipeline read the end too).
   */
  @Test
  void anUpdateRecordedAfterTheNewerEndReadAheadLeavesTheEnd() throws Exception {
    long now = Instant.now().getEpochSecond();
    Campaign running =
        new Campaign("r", "sold", "10% off", "o", "oc", now - 10, now + 3600, now - 100);
    Campaign update =
        new Campaign("r", "sold", "15% off", "o", "oc", now - 10, now + 3600, now - 60);
    Campaign soldOut = new Campaign("r", "sold", "15% off", "o", "oc", now - 10, now - 1, now - 30);
    CampaignVersions versions = CampaignVersions.inPostgres(postgres);
    versions.recordAhead(soldOut, now + 3600);
    versions.record(update, now + 3600);
    assertEquals(soldOut, new PostgresCampaignVersions.View(postgres).newest(running));
  }
}
