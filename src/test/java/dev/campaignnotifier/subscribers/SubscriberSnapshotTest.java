package dev.campaignnotifier.subscribers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class SubscriberSnapshotTest {
  @Test
  void repeatedPairsCountOnceAndClientsAreSorted() {
    SubscriberSnapshot s =
        SubscriberSnapshot.builder()
            .add("r1", "b")
            .add("r1", "a")
            .add("r1", "b")
            .add("r2", "c")
            .build(1);
    assertEquals(List.of("a", "b"), s.clientsOf("r1"));
    assertEquals(List.of("c"), s.clientsOf("r2"));
    assertEquals(List.of(), s.clientsOf("nobody follows this"));
    assertEquals(3, s.subscriptionCount());
    assertEquals(4, s.sourceRows());
    assertEquals(2, s.restaurantCount());
  }
}
