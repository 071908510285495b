package dev.campaignnotifier.options;

import dev.campaignnotifier.runner.RunnerProfile;
import dev.campaignnotifier.subscribers.SubscriberMode;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** Where the fan-out finds a restaurant's subscribers, and how fresh they are kept. */
public interface SubscriberOptions extends PipelineOptions {
  @Description(
      "How a campaign's subscribers are found: snapshot (the whole subscribers_restaurants table"
          + " in memory on every worker, re-read every --subscribersRefresh) or lookup (one"
          + " query per campaign through the index of sql/003_subscriber_lookup_index.sql)."
          + " Default: snapshot on the DirectRunner, lookup on Spark and Flink (RunnerProfile).")
  @Default.InstanceFactory(RunnerProfile.SubscribersDefault.class)
  SubscriberMode getSubscribers();

  void setSubscribers(SubscriberMode value);

  @Description(
      "How often subscribers_restaurants is re-read in snapshot mode, as 500ms, 30s, 5m, 1h or"
          + " ISO-8601 (PT30S).")
  @Default.String("30s")
  String getSubscribersRefresh();

  void setSubscribersRefresh(String value);

  @Description(
      "Notify a client who adds the restaurant to favourites while one of its campaigns is active"
          + " (once, within seconds, never after the campaign's end).")
  @Default.Boolean(true)
  boolean getNotifyLateSubscribers();

  void setNotifyLateSubscribers(boolean value);
}
