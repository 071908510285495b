package dev.campaignnotifier.late;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.campaignnotifier.late.WatchSubscriptions.Mark;
import dev.campaignnotifier.late.WatchSubscriptions.Row;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The high-water mark and the gaps left by inserts that had not committed yet. */
class WatchSubscriptionsTest {
  private static Row row(long id) {
    return new Row(id, "r", "c" + id);
  }

  @Test
  void idsSkippedOverAreRememberedUntilTheyAppear() {
    Mark mark = new Mark(10, Map.of()).after(List.of(row(11), row(14)), 1000);
    assertEquals(new Mark(14, Map.of(12L, 1000L, 13L, 1000L)), mark);
    Mark later = mark.after(List.of(row(13), row(15)), 2000);
    assertEquals(new Mark(15, Map.of(12L, 1000L)), later);
  }

  @Test
  void aGapThatNeverFillsIsForgottenAfterTenMinutes() {
    Mark mark = new Mark(10, Map.of()).after(List.of(row(12)), 0);
    assertEquals(Map.of(11L, 0L), mark.gaps());
    assertEquals(Map.of(11L, 0L), mark.after(List.of(), WatchSubscriptions.GAP_MILLIS).gaps());
    assertEquals(Map.of(), mark.after(List.of(), WatchSubscriptions.GAP_MILLIS + 1).gaps());
  }

  @Test
  void nothingNewLeavesTheMarkWhereItWas() {
    assertEquals(new Mark(10, Map.of()), new Mark(10, Map.of()).after(List.of(), 5));
  }

  @Test
  void theSavedMarkStaysBelowTheOldestOpenGap() {
    Mark mark = new Mark(10, Map.of()).after(List.of(row(11), row(14)), 1000);
    assertEquals(11, mark.seenThrough());
    assertEquals(14, mark.after(List.of(row(12), row(13)), 2000).seenThrough());
    assertEquals(10, new Mark(10, Map.of()).seenThrough());
  }
}
