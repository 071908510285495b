package dev.campaignnotifier.subscribers;

/** How the fan-out finds a restaurant's subscribers ({@code --subscribers}). */
public enum SubscriberMode {
  /**
   * The whole {@code subscribers_restaurants} table in memory on every worker, as a side input
   * re-read every {@code --subscribersRefresh}: no query per campaign, memory and re-reads that
   * grow with the table.
   */
  snapshot,
  /**
   * One query per campaign for its restaurant's subscribers, streamed in pages through an index (or
   * one for a bundle's small restaurants: {@link SubscriberReader#firstClientsOf}): nothing held
   * between campaigns, and always the table as it is now.
   */
  lookup
}
