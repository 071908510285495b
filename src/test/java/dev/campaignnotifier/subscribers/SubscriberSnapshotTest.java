package dev.campaignnotifier.subscribers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
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

  @Test
  void aPageAfterAClientStartsPastItWhetherOrNotItIsStillThere() {
    SubscriberSnapshot s =
        SubscriberSnapshot.builder()
            .add("r", "a")
            .add("r", "c")
            .add("r", "e")
            .add("r", "g")
            .build(1);
    assertEquals(List.of("a", "c"), page(s, null, 2));
    assertEquals(List.of("e", "g"), page(s, "c", 5));
    assertEquals(List.of("e"), page(s, "d", 1), "a client gone since the last page");
    assertEquals(List.of(), page(s, "g", 5));
    assertEquals(List.of(), page(s, null, 0));
  }

  private static List<String> page(SubscriberSnapshot s, String after, int limit) {
    List<String> handed = new ArrayList<>();
    long n = s.forEachClientAfter("r", after, limit, handed::add);
    assertEquals(handed.size(), n);
    return handed;
  }
}
