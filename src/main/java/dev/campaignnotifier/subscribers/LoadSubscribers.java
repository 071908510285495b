package dev.campaignnotifier.subscribers;

import dev.campaignnotifier.ops.LiveState;
import java.util.UUID;
import javax.sql.DataSource;
import org.apache.beam.sdk.io.GenerateSequence;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Distribution;
import org.apache.beam.sdk.metrics.Gauge;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.windowing.AfterPane;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Repeatedly;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollectionView;
import org.joda.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The subscriber side input: every {@code refresh} the whole table is re-read and the result
 * published as the new snapshot (Beam's "slowly updating global window side input" pattern). A tick
 * every second (or every refresh, if shorter) drives it; the read runs in the background ({@link
 * SnapshotLoader}) and is published on the first tick after it finishes, so a long read never holds
 * up the campaigns.
 *
 * <p>Until the first read succeeds the view is {@link SubscriberSnapshot#notLoaded()}: the Direct
 * and Flink runners hold back the campaigns that need it, the Spark runner hands them the default,
 * and {@link SubscriberSource} then looks the campaign's subscribers up in PostgreSQL instead. A
 * failed refresh publishes nothing, so the last good snapshot stays in force; it is logged and
 * counted, never swapped for an empty one.
 */
public final class LoadSubscribers extends PTransform<PBegin, PCollectionView<SubscriberSnapshot>> {
  /** How often the step looks for a finished read: a snapshot is in force at most this late. */
  static final Duration POLL = Duration.standardSeconds(1);

  private final SerializableFunction<Void, DataSource> dataSource;
  private final Duration refresh;

  public LoadSubscribers(SerializableFunction<Void, DataSource> dataSource, Duration refresh) {
    this.dataSource = dataSource;
    this.refresh = refresh;
  }

  @Override
  public PCollectionView<SubscriberSnapshot> expand(PBegin input) {
    Duration poll = refresh.isShorterThan(POLL) ? refresh : POLL;
    // One id per pipeline: the reads of a pipeline started again in this JVM start afresh.
    String pipelineId = UUID.randomUUID().toString();
    return input
        .apply("TickEachRefresh", GenerateSequence.from(0).withRate(1, poll))
        .apply(
            "FireOnEachTick",
            Window.<Long>into(new GlobalWindows())
                .triggering(Repeatedly.forever(AfterPane.elementCountAtLeast(1)))
                .discardingFiredPanes())
        .apply(
            "ReadSubscriberTable",
            ParDo.of(new ReadSnapshotFn(dataSource, refresh.getMillis(), pipelineId)))
        .setCoder(SubscriberSnapshot.SnapshotCoder.of())
        .apply("KeepNewestSnapshot", Combine.globally(new NewestFn()).withoutDefaults())
        .apply(
            "AsSideInput",
            View.<SubscriberSnapshot>asSingleton()
                .withDefaultValue(SubscriberSnapshot.notLoaded()));
  }

  /**
   * On each tick: publishes the read that has finished, if any, and starts the next one when a
   * refresh period has passed since the last began. The read itself runs on a thread of the {@link
   * SnapshotLoader}, never in the bundle.
   */
  static final class ReadSnapshotFn extends DoFn<Long, SubscriberSnapshot> {
    private static final Logger LOG = LoggerFactory.getLogger(LoadSubscribers.class);
    private final SerializableFunction<Void, DataSource> dataSource;
    private final long refreshMillis;
    private final String pipelineId;
    private final Counter refreshes = Metrics.counter("subscribers", "refreshes");
    private final Counter failures = Metrics.counter("subscribers", "refreshFailures");
    private final Gauge pairs = Metrics.gauge("subscribers", "snapshotPairs");
    private final Distribution loadMillis = Metrics.distribution("subscribers", "loadMillis");

    ReadSnapshotFn(
        SerializableFunction<Void, DataSource> dataSource, long refreshMillis, String pipelineId) {
      this.dataSource = dataSource;
      this.refreshMillis = refreshMillis;
      this.pipelineId = pipelineId;
    }

    @ProcessElement
    public void process(@Element Long tick, OutputReceiver<SubscriberSnapshot> out) {
      SnapshotLoader loader = SnapshotLoader.of(pipelineId);
      loader.poll().ifPresent(outcome -> publish(outcome, out));
      loader.startIfDue(refreshMillis, () -> SubscriberTable.read(dataSource.apply(null)));
    }

    private void publish(SnapshotLoader.Outcome outcome, OutputReceiver<SubscriberSnapshot> out) {
      if (outcome.failure() != null) {
        failures.inc();
        LOG.warn(
            "Subscriber refresh {} failed, still serving the last good snapshot: {}",
            outcome.number(),
            outcome.failure().toString());
        return;
      }
      SubscriberSnapshot snapshot = outcome.snapshot();
      refreshes.inc();
      pairs.set(snapshot.subscriptionCount());
      loadMillis.update(outcome.millis());
      LOG.info(
          "Subscriber snapshot {} loaded in {} ms: {} restaurants, {} subscriptions",
          outcome.number(),
          outcome.millis(),
          snapshot.restaurantCount(),
          snapshot.subscriptionCount());
      out.output(snapshot);
      LiveState.snapshotLoaded(System.currentTimeMillis());
    }
  }

  /** Two snapshots in one pane (a slow read, a fast tick): the later load wins. */
  static final class NewestFn extends Combine.BinaryCombineFn<SubscriberSnapshot> {
    @Override
    public SubscriberSnapshot apply(SubscriberSnapshot a, SubscriberSnapshot b) {
      return a.loadedAtMillis() >= b.loadedAtMillis() ? a : b;
    }
  }
}
