package dev.campaignnotifier.options;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** Where messages that are not valid campaigns go, and what "too large" means. */
public interface DeadLetterOptions extends PipelineOptions {
  @Description(
      "Topic that receives every input message that is not a valid campaign, as JSON with the"
          + " original key and value, its source position and a reason code.")
  @Default.String("campaigns-dead-letter")
  String getDeadLetterTopic();

  void setDeadLetterTopic(String value);

  @Description("Largest campaign message accepted, in bytes; larger ones are dead letters.")
  @Default.Integer(65_536)
  int getMaxMessageBytes();

  void setMaxMessageBytes(int value);

  @Description("Longest text field accepted, in characters; longer ones are dead letters.")
  @Default.Integer(4_096)
  int getMaxFieldChars();

  void setMaxFieldChars(int value);
}
