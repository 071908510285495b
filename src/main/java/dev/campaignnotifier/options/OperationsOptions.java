package dev.campaignnotifier.options;

import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** How operators watch the service: the metrics and health endpoint. */
public interface OperationsOptions extends PipelineOptions {
  @Description(
      "Port of the HTTP endpoint serving /metrics (Prometheus) and /health/live, /health/ready;"
          + " 0 turns it off.")
  @Default.Integer(9464)
  int getMetricsPort();

  void setMetricsPort(int value);

  @Description(
      "/health/ready fails while a slice of notifications has been in delivery longer than this"
          + " (Kafka or PostgreSQL not taking them): 30s, 2m, PT2M.")
  @Default.String("2m")
  String getDeliveryStuckAfter();

  void setDeliveryStuckAfter(String value);
}
