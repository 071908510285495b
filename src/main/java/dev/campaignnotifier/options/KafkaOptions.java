package dev.campaignnotifier.options;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** Where campaigns come from and notifications go. */
public interface KafkaOptions extends PipelineOptions {
  @Description(
      "Kafka bootstrap servers, host:port[,host:port...]. Leave unset to start an embedded local"
          + " broker (the quick start).")
  String getBootstrapServers();

  void setBootstrapServers(String value);

  @Description("Topic the campaigns are read from.")
  @Default.String("campaigns")
  String getInputTopic();

  void setInputTopic(String value);

  @Description("Topic the notifications are written to (key <adv_campaign_id>:<client_id>).")
  @Default.String("campaign-notifications")
  String getOutputTopic();

  void setOutputTopic(String value);

  @Description(
      "Topic that receives the newest version of each active campaign published again (its end"
          + " or text changed, or it was ended early), keyed by adv_campaign_id, in the input's"
          + " format: for a push service that queues notifications and should drop those of a"
          + " campaign that has ended. Empty: not published.")
  @Default.String("")
  String getCampaignUpdatesTopic();

  void setCampaignUpdatesTopic(String value);

  @Description("Kafka consumer group of the campaign reader; committed offsets are kept under it.")
  @Default.String("campaign-notifier")
  String getConsumerGroup();

  void setConsumerGroup(String value);

  @Description(
      "How far back a start looks for campaigns that were read but may not have been delivered"
          + " (see Delivery guarantees), as 30m, 24h or PT24H. It should cover the longest time from"
          + " publishing a campaign to its end that a crash must survive.")
  @Default.String("24h")
  String getReplayWindow();

  void setReplayWindow(String value);

  @Description(
      "Path of a Java properties file of Kafka client settings (security.protocol, sasl.*, ssl.*,"
          + " ...) applied to every consumer and producer the service opens. It is read when a"
          + " client is created, so the secrets in it never enter the pipeline or its logs.")
  String getKafkaPropertiesFile();

  void setKafkaPropertiesFile(String value);
}
