package dev.campaignnotifier.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The progress lines, with a scripted clock and a scripted delivery ledger. */
class CampaignProgressTest {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  private final AtomicReference<CampaignProgress.Recorded> ledger =
      new AtomicReference<>(new CampaignProgress.Recorded(0, false, 0));
  private final CampaignProgress progress = new CampaignProgress(nanos::get);

  private void seconds(long s) {
    nanos.addAndGet(TimeUnit.SECONDS.toNanos(s));
  }

  private void recorded(long slices, boolean lastOne) {
    ledger.set(new CampaignProgress.Recorded(slices, lastOne, 16_000));
  }

  private CampaignProgress.Followed follow() {
    return progress.add("big", "fan-out-1", 2000, (campaign, fanOut) -> ledger.get());
  }

  @Test
  void reportsDeliveredOfTotalWithRateAndTimeLeftUntilDone() {
    CampaignProgress.Followed f = follow();
    f.fannedOut(120_000);
    recorded(10, false);
    seconds(5);
    assertEquals(
        List.of("Campaign big: 20,000 delivered, 120,000 fanned out so far, 4,000/s"),
        progress.report());

    f.finished(1_000_000, 500);
    recorded(210, false);
    seconds(5);
    assertEquals(
        List.of("Campaign big: 420,000 of 1,000,000 delivered, 80,000/s, about 8 s left"),
        progress.report());

    seconds(5);
    assertEquals(
        List.of("Campaign big: 420,000 of 1,000,000 delivered, none in the last 5 s"),
        progress.report());

    recorded(500, true);
    seconds(5);
    assertEquals(
        List.of(
            "Campaign big: all 1,000,000 delivered in 16.0 s (first to last slice recorded), 62,500/s"),
        progress.report());
    assertEquals(List.of(), progress.report(), "a campaign done is let go");
  }

  @Test
  void theShortLastSliceCountsForWhatItHolds() {
    CampaignProgress.Followed f = follow();
    f.finished(200_001, 101);
    recorded(2, true); // slice 101 (one client) and one full slice
    seconds(1);
    assertEquals(
        List.of("Campaign big: 2,001 of 200,001 delivered, 2,001/s, about 99 s left"),
        progress.report());
  }

  @Test
  void aCampaignWithNothingDeliveredForTenMinutesIsLetGo() {
    follow().finished(150_000, 75);
    recorded(1, false);
    seconds(5);
    progress.report();
    seconds(601);
    assertEquals(
        List.of(
            "Campaign big: 2,000 of 150,000 delivered, none in the last 601 s",
            "Campaign big: nothing delivered for 10 min; no longer following its progress"),
        progress.report());
    assertEquals(List.of(), progress.report());
  }

  @Test
  void anUnreadableLedgerSkipsTheLineButKeepsFollowing() {
    CampaignProgress.Followed f =
        progress.add(
            "big",
            "fan-out-1",
            2000,
            (campaign, fanOut) -> {
              throw new java.sql.SQLException("connection refused");
            });
    f.finished(150_000, 75);
    seconds(5);
    assertEquals(List.of(), progress.report());
  }
}
