package dev.campaignnotifier.it;

import dev.campaignnotifier.subscribers.SubscriberMode;

/** The runner contract on the DirectRunner, subscribers looked up per campaign. */
class DirectRunnerLookupIT extends DirectRunnerIT {
  @Override
  SubscriberMode mode() {
    return SubscriberMode.lookup;
  }

  /** Lookup mode's late subscribers: SparkRunnerIT and FlinkRunnerLookupIT. */
  @Override
  boolean coversLateSubscribers() {
    return false;
  }
}
