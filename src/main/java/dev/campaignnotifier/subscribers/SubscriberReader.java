package dev.campaignnotifier.subscribers;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A restaurant's subscribers, the one thing the fan-out asks of either mode: each distinct client
 * once, in client-id order, handed over one at a time so that neither mode needs the whole list in
 * memory at once.
 */
@FunctionalInterface
public interface SubscriberReader {
  /**
   * Calls {@code client} for each distinct client who follows {@code restaurantId}.
   *
   * @return how many clients were handed over
   */
  long forEachClient(String restaurantId, Consumer<String> client) throws InterruptedException;

  /**
   * As {@link #forEachClient}, but only the first {@code limit} clients after {@code after} (null:
   * from the first), for a fan-out made a few slices at a time. Both modes find the place through
   * their order (an index range, a binary search); this default walks the whole list.
   *
   * @return how many clients were handed over
   */
  default long forEachClientAfter(
      String restaurantId, String after, int limit, Consumer<String> client)
      throws InterruptedException {
    long[] handed = {0};
    forEachClient(
        restaurantId,
        c -> {
          if ((after == null || c.compareTo(after) > 0) && handed[0] < limit) {
            handed[0]++;
            client.accept(c);
          }
        });
    return handed[0];
  }

  /**
   * The first {@code limit} clients of each of {@code restaurantIds}, in client-id order (a
   * restaurant nobody follows: an empty list), for a bundle of campaigns asked about together: in a
   * lunch rush the fan-out's time went to one round trip per campaign. This default asks restaurant
   * by restaurant; lookup mode asks in one query.
   */
  default Map<String, List<String>> firstClientsOf(Collection<String> restaurantIds, int limit)
      throws InterruptedException {
    Map<String, List<String>> first = new HashMap<>();
    for (String restaurantId : restaurantIds) {
      List<String> clients = new ArrayList<>();
      forEachClientAfter(restaurantId, null, limit, clients::add);
      first.put(restaurantId, clients);
    }
    return first;
  }
}
