package dev.campaignnotifier.campaigns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.campaignnotifier.model.Campaign;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The worker's memory of {@code campaign_versions} ({@link PostgresCampaignVersions.View}). */
class CampaignVersionsViewTest {
  private final Campaign asked = new Campaign("r", "c1", "text", "o", "oc", 100, 200, 50);
  private final Campaign recorded = new Campaign("r", "c1", "other text", "o", "oc", 100, 150, 50);

  /** A table that answers each read with the next of {@code reads}. */
  private static PostgresCampaignVersions.Rows table(
      Deque<Map<String, PostgresCampaignVersions.Kept>> reads) {
    return (from, changed) -> {
      changed.putAll(reads.isEmpty() ? Map.of() : reads.poll());
      return "1000";
    };
  }

  /**
   * A version of the same second, different from the one asked about, makes the memory read the
   * table again at once; if every version of the campaign ended meanwhile, the row is forgotten in
   * that read, and the campaign is as it was asked (it was a NullPointerException that failed the
   * delivery's bundle).
   */
  @Test
  void aRowForgottenInTheSecondReadLeavesTheCampaignAsAsked() throws Exception {
    Deque<Map<String, PostgresCampaignVersions.Kept>> reads = new ArrayDeque<>();
    reads.add(Map.of("c1", new PostgresCampaignVersions.Kept(recorded, 300)));
    AtomicLong now = new AtomicLong(120);
    PostgresCampaignVersions.View view =
        new PostgresCampaignVersions.View(
            table(reads),
            () -> {
              long second = now.get();
              now.set(301); // the second read comes after the row's keep-until
              return second;
            });

    assertSame(asked, view.newest(asked));
  }

  @Test
  void aRowKeptIsTheNewestVersionOfItsCampaign() throws Exception {
    Campaign newer = new Campaign("r", "c1", "text", "o", "oc", 100, 150, 60);
    Deque<Map<String, PostgresCampaignVersions.Kept>> reads = new ArrayDeque<>();
    reads.add(Map.of("c1", new PostgresCampaignVersions.Kept(newer, 300)));
    PostgresCampaignVersions.View view = new PostgresCampaignVersions.View(table(reads), () -> 120);

    assertEquals(newer, view.newest(asked));
  }
}
