package dev.campaignnotifier.subscribers;

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
}
