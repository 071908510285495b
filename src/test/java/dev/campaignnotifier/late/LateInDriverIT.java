package dev.campaignnotifier.late;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.delivery.ScriptedDelivered;
import dev.campaignnotifier.it.LocalServers;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.ScriptedClock;
import dev.campaignnotifier.model.Slice;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.junit.jupiter.api.Test;

/**
 * The late step beside the pipeline ({@link LateInDriver}) on a real PostgreSQL: the campaigns
 * recorded as the pipeline records them ({@link ActiveCampaigns}), favourites added as an app adds
 * them (a row in {@code subscribers_restaurants}), one look per scripted second. Every campaign's
 * fan-out is recorded in full, and a client the step notified has a feedback row from then on, as
 * the delivery makes it.
 */
class LateInDriverIT {
  private static final long T = 1_900_000_000L;
  private static final Map<String, Set<String>> FEEDBACK = new ConcurrentHashMap<>();

  private final DataSource db = LocalServers.database("late", "");
  private final String group = LocalServers.unique("group");
  private final List<Slice> delivered = new ArrayList<>();

  /** The fan-out of every campaign is recorded; the feedback rows are those delivered here. */
  private static final class Recorded extends ScriptedDelivered {
    @Override
    public Set<String> clientsOf(String campaignId) {
      return FEEDBACK.getOrDefault(campaignId, Set.of());
    }

    @Override
    public boolean finished(String campaignId) {
      return true;
    }
  }

  private LateInDriver late(long... seconds) {
    SerializableFunction<Void, DataSource> postgres = unused -> db;
    return new LateInDriver(
        postgres,
        group,
        new Recorded(),
        slices -> {
          delivered.addAll(slices);
          for (Slice slice : slices) {
            FEEDBACK
                .computeIfAbsent(
                    slice.campaign().advCampaignId(), id -> ConcurrentHashMap.newKeySet())
                .addAll(slice.clients());
          }
        },
        ScriptedClock.of(seconds),
        120_000,
        2);
  }

  private static Campaign campaign(String id, String restaurant, long start, long end) {
    return new Campaign(restaurant, id, "10% off", "Ivanov", "ivanov@r.ru", start, end, T - 100);
  }

  private void active(Campaign... campaigns) throws InterruptedException {
    ActiveCampaigns.write(db, List.of(campaigns), () -> {});
  }

  private void favourite(String client, String restaurant) throws Exception {
    try (Connection c = db.getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
                    + " VALUES (?, ?)")) {
      c.setAutoCommit(true);
      s.setString(1, client);
      s.setString(2, restaurant);
      s.executeUpdate();
    }
  }

  private List<String> clientsNotified(String campaignId) {
    List<String> clients = new ArrayList<>();
    delivered.stream()
        .filter(s -> s.campaign().advCampaignId().equals(campaignId))
        .forEach(s -> clients.addAll(s.clients()));
    return clients;
  }

  @Test
  void aFavouriteAddedDuringTheCampaignIsNotifiedOnceAndOneAfterItsEndIsNot() throws Exception {
    String r = LocalServers.unique("restaurant");
    favourite("before-the-service", r);
    active(campaign("c1", r, T - 10, T + 100));
    LateInDriver late = late(T, T + 1, T + 2, T + 3, T + 101);
    late.look(); // the first look of a group: its mark, and the campaigns active
    favourite("late", r);
    late.look();
    late.look();
    favourite("late", r); // removed and added again
    late.look();
    favourite("after-the-end", r);
    late.look();
    assertEquals(List.of("late"), clientsNotified("c1"));
    assertEquals(T + 1, delivered.get(0).triggerEpochSecond(), "stamped at its notification");
  }

  @Test
  void aCampaignRecordedAfterTheFavouriteStillReachesIt() throws Exception {
    String r = LocalServers.unique("restaurant");
    LateInDriver late = late(T, T + 1, T + 2);
    late.look();
    // The fan-out read the subscribers before this favourite; its campaign is recorded after.
    favourite("between", r);
    late.look();
    active(campaign("c2", r, T - 10, T + 100));
    late.look();
    assertEquals(List.of("between"), clientsNotified("c2"));
  }

  @Test
  void aNewVersionReplacesTheOldAndAnEndNowLeavesNothingToSend() throws Exception {
    String r = LocalServers.unique("restaurant");
    Campaign first = campaign("c3", r, T - 10, T + 100);
    Campaign ended = campaign("c4", r, T - 10, T + 100);
    active(first, ended);
    LateInDriver late = late(T, T + 1, T + 2);
    late.look();
    Campaign newText =
        new Campaign(r, "c3", "20% off", "Ivanov", "ivanov@r.ru", T - 10, T + 100, T - 50);
    // The restaurant's app ends c4 now: the same campaign with its end at this second.
    Campaign endedNow = new Campaign(r, "c4", "10% off", "Ivanov", "ivanov@r.ru", T - 10, T, T);
    active(newText, endedNow);
    active(first); // an older version read again changes nothing
    late.look();
    favourite("late", r);
    late.look();
    assertEquals(List.of("late"), clientsNotified("c3"));
    assertEquals("20% off", delivered.get(0).campaign().content());
    assertEquals(List.of(), clientsNotified("c4"));
  }

  @Test
  void aRestartResumesFromTheSavedMarkAndTheActiveCampaigns() throws Exception {
    String r = LocalServers.unique("restaurant");
    active(campaign("c5", r, T - 10, T + 100));
    late(T).look();
    favourite("while-stopped", r);
    LateInDriver again = late(T + 30);
    again.look();
    assertEquals(List.of("while-stopped"), clientsNotified("c5"));
  }

  @Test
  void manyCampaignsComeAndGoAndNothingIsLeftHeldOrInTheTable() throws Exception {
    String r = LocalServers.unique("restaurant");
    List<Campaign> many = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      many.add(campaign("m" + i, r + "-" + (i % 1000), T - 10, T + 10 + i % 50));
    }
    active(many.toArray(Campaign[]::new));
    LateInDriver late = late(T, T + 1, T + 200);
    late.look();
    favourite("late", r + "-7");
    late.look();
    Set<String> reached = new HashSet<>();
    delivered.forEach(s -> reached.add(s.campaign().advCampaignId()));
    assertEquals(10, reached.size(), "the ten campaigns of that restaurant");
    assertTrue(late.restaurantsHeld() > 0);
    late.look(); // after every end, and the table's rows deleted a minute after
    assertEquals(0, late.restaurantsHeld());
    assertEquals(0, LocalServers.count(db, "SELECT count(*) FROM public.campaign_active"));
  }

  /**
   * A restaurant's app that publishes a campaign and at once its correction (the same id, newer)
   * can put both in one bundle, or the replay plan can find both on two partitions: recorded in one
   * statement, the newest stands (PostgreSQL refuses a statement that writes one row twice).
   */
  @Test
  void twoVersionsOfOneCampaignInOneWriteRecordTheNewest() throws Exception {
    String r = LocalServers.unique("restaurant");
    Campaign first = campaign("twice", r, T - 10, T + 100);
    Campaign corrected =
        new Campaign(r, "twice", "15% off", "Ivanov", "ivanov@r.ru", T - 10, T + 100, T - 50);
    active(first, corrected);
    assertEquals(
        1,
        LocalServers.count(
            db,
            "SELECT count(*) FROM public.campaign_active"
                + " WHERE adv_campaign_id = 'twice' AND content = '15% off'"));
  }

  /**
   * A campaign whose recording commits long after its statement started (a bundle's write waiting
   * for a lock, a slow disk) is still read, by the look after its commit: the table is read by
   * transaction, not by a time stamped at the start. The transaction is held open for 5.5 s, longer
   * than the 5 s a read by time looked back, because its start is PostgreSQL's clock, which the
   * test cannot script.
   */
  @Test
  void aCampaignRecordedByATransactionThatCommitsLateIsStillRead() throws Exception {
    String r = LocalServers.unique("restaurant");
    LateInDriver late = late(T, T + 1, T + 2, T + 3);
    late.look();
    try (Connection slow = db.getConnection();
        PreparedStatement s =
            slow.prepareStatement(
                "INSERT INTO public.campaign_active (adv_campaign_id, restaurant_id, content,"
                    + " owner, owner_contact, start_epoch, end_epoch, created_epoch)"
                    + " VALUES ('slow', ?, '10% off', 'Ivanov', 'ivanov@r.ru', ?, ?, ?)")) {
      slow.setAutoCommit(false);
      s.setString(1, r);
      s.setLong(2, T - 10);
      s.setLong(3, T + 100);
      s.setLong(4, T - 100);
      s.executeUpdate();
      Thread.sleep(5_500);
      late.look(); // the recording is not committed yet
      slow.commit();
    }
    favourite("late", r);
    late.look();
    assertEquals(List.of("late"), clientsNotified("slow"));
  }
}
