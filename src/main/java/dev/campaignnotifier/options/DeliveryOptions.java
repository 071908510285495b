package dev.campaignnotifier.options;

import dev.campaignnotifier.runner.RunnerProfile;
import org.apache.beam.sdk.options.Default;
import org.apache.beam.sdk.options.Description;
import org.apache.beam.sdk.options.PipelineOptions;

/** How notifications are delivered to both sinks. */
public interface DeliveryOptions extends PipelineOptions {
  @Description(
      "Notifications per delivery slice: one wait for Kafka's acknowledgements and one COPY each,"
          + " and the unit that is spread over the workers. Small slices (campaigns of fewer"
          + " subscribers) are delivered together up to this many per transaction.")
  @Default.Integer(2_000)
  int getDeliverySliceSize();

  void setDeliverySliceSize(int value);

  @Description(
      "Slices a fan-out makes per turn before other campaigns get theirs; 0 makes a campaign's"
          + " slices in one go. Default: 4 on Flink (a small campaign is then not stuck behind a"
          + " big one's delivery), 0 elsewhere (RunnerProfile). On the SparkRunner a turn per"
          + " micro-batch, in lookup mode only (ignored with a warning in snapshot mode).")
  @Default.InstanceFactory(RunnerProfile.SlicesPerTurnDefault.class)
  int getFanOutSlicesPerTurn();

  void setFanOutSlicesPerTurn(int value);

  @Description(
      "On Spark's local master, where big campaigns are fanned out and delivered beside the"
          + " micro-batches: subscribers handed over and not yet delivered, at most, in the JVM"
          + " (about 100 bytes of heap each); a fan-out that would hand over more waits for room.")
  @Default.Integer(1_000_000)
  int getDeliveryBesideClients();

  void setDeliveryBesideClients(int value);

  /**
   * @deprecated the old name of {@link #getDeliverySliceSize()}, from when slices were JDBC
   *     batches; still honoured (with a warning) for one release.
   */
  @Deprecated
  @Description("Deprecated: the old name of --deliverySliceSize; wins over it when given.")
  Integer getJdbcBatchSize();

  @Deprecated
  void setJdbcBatchSize(Integer value);
}
