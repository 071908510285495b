package dev.campaignnotifier.options;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** How fresh the subscriber snapshot is kept. */
public interface SubscriberOptions extends PipelineOptions {
  @Description(
      "How often subscribers_restaurants is re-read, as 500ms, 30s, 5m, 1h or ISO-8601 (PT30S).")
  @Default.String("30s")
  String getSubscribersRefresh();

  void setSubscribersRefresh(String value);
}
