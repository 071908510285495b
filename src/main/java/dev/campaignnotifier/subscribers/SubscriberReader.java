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
}
