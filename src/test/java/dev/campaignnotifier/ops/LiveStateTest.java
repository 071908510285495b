package dev.campaignnotifier.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LiveStateTest {
  private static final long NOW = 1_800_000_000L;

  @AfterEach
  void forget() {
    LiveState.reset();
  }

  @Test
  void pendingIsFannedOutLessRecordedOverFanOuts() {
    LiveState.fannedOut("a", NOW + 3600, 2000);
    LiveState.fannedOut("a", NOW + 3600, 2000);
    LiveState.fannedOut("b", NOW + 3600, 10);
    LiveState.recorded("a", NOW + 3600, 2000);
    assertEquals(2010, LiveState.pending(NOW));
    LiveState.recorded("a", NOW + 3600, 2000);
    LiveState.recorded("b", NOW + 3600, 10);
    assertEquals(0, LiveState.pending(NOW));
  }

  @Test
  void aFanOutLeftBehindIsForgottenAnHourAfterItsCampaignEnded() {
    LiveState.fannedOut("abandoned", NOW, 2000);
    assertEquals(2000, LiveState.pending(NOW + 3600));
    assertEquals(0, LiveState.pending(NOW + 3601));
  }

  @Test
  void oldestDeliveryIsTheLongestSliceStillInDelivery() {
    Object first = LiveState.deliveryStarted(100);
    Object second = LiveState.deliveryStarted(400);
    assertEquals(900, LiveState.oldestDeliveryNanos(1000));
    LiveState.deliveryEnded(first);
    assertEquals(600, LiveState.oldestDeliveryNanos(1000));
    LiveState.deliveryEnded(second);
    assertEquals(0, LiveState.oldestDeliveryNanos(1000));
  }
}
