package dev.campaignnotifier.subscribers;

import java.io.Serializable;
import java.util.List;
import javax.sql.DataSource;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.PCollectionView;
import org.joda.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the fan-out finds a restaurant's subscribers: the one place {@code --subscribers} is acted
 * on ({@link #of}). The fan-out names the side inputs a source needs ({@link #sideInputs}) and asks
 * it, for each campaign, for a {@link SubscriberReader}; it never knows which mode it runs in.
 */
public abstract class SubscriberSource implements Serializable {
  private static final long serialVersionUID = 1L;

  /**
   * The source of {@code mode}. In {@link SubscriberMode#snapshot} mode this adds the {@code
   * LoadSubscribers} side input to {@code pipeline}; {@link SubscriberMode#lookup} adds nothing.
   */
  public static SubscriberSource of(
      Pipeline pipeline,
      SubscriberMode mode,
      SerializableFunction<Void, DataSource> postgres,
      Duration refresh) {
    SubscriberLookup lookup = new SubscriberLookup(postgres);
    return switch (mode) {
      case snapshot ->
          fromSnapshot(
              pipeline.apply("LoadSubscribers", new LoadSubscribers(postgres, refresh)), lookup);
      case lookup -> fromLookup(lookup);
    };
  }

  /**
   * Snapshot mode on a given side input; {@code beforeFirstSnapshot} (serializable) reads for a
   * campaign that meets the side input before its first value.
   */
  public static SubscriberSource fromSnapshot(
      PCollectionView<SubscriberSnapshot> view, SubscriberReader beforeFirstSnapshot) {
    return new FromSnapshot(view, beforeFirstSnapshot);
  }

  /** Lookup mode through a given reader (serializable). */
  public static SubscriberSource fromLookup(SubscriberReader lookup) {
    return new FromLookup(lookup);
  }

  /** Side inputs the fan-out must declare for {@link #readerFor} to read. */
  public abstract List<PCollectionView<?>> sideInputs();

  /** The reader for the campaign being processed in {@code context}. */
  public abstract SubscriberReader readerFor(DoFn<?, ?>.ProcessContext context);

  /**
   * The reader where no side input can be read (a timer), or null when it needs one (snapshot
   * mode).
   */
  public SubscriberReader readerWithoutSideInput() {
    return null;
  }

  /** {@link SubscriberMode#snapshot}: the side input, refreshed by {@link LoadSubscribers}. */
  static final class FromSnapshot extends SubscriberSource {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(SubscriberSource.class);
    private final PCollectionView<SubscriberSnapshot> view;
    private final SubscriberReader beforeFirstSnapshot;
    private final Counter beforeFirstRefresh = Metrics.counter("campaigns", "beforeFirstRefresh");

    FromSnapshot(PCollectionView<SubscriberSnapshot> view, SubscriberReader beforeFirstSnapshot) {
      this.view = view;
      this.beforeFirstSnapshot = beforeFirstSnapshot;
    }

    @Override
    public List<PCollectionView<?>> sideInputs() {
      return List.of(view);
    }

    /**
     * The Direct and Flink runners hold a campaign back until the side input has its first value;
     * the Spark runner hands out the view's default ({@link SubscriberSnapshot#notLoaded()})
     * instead. Fanning out to that empty snapshot would notify nobody, so such a campaign is read
     * with one lookup query (the same rows the snapshot will hold).
     */
    @Override
    public SubscriberReader readerFor(DoFn<?, ?>.ProcessContext context) {
      SubscriberSnapshot snapshot = context.sideInput(view);
      if (snapshot.isLoaded()) {
        return snapshot;
      }
      beforeFirstRefresh.inc();
      LOG.info("A campaign arrived before the first subscriber snapshot; reading its subscribers");
      return beforeFirstSnapshot;
    }
  }

  /**
   * {@link SubscriberMode#lookup}: a query per campaign, or per bundle ({@link
   * SubscriberReader#firstClientsOf}).
   */
  static final class FromLookup extends SubscriberSource {
    private static final long serialVersionUID = 1L;
    private final SubscriberReader lookup;

    FromLookup(SubscriberReader lookup) {
      this.lookup = lookup;
    }

    @Override
    public List<PCollectionView<?>> sideInputs() {
      return List.of();
    }

    @Override
    public SubscriberReader readerFor(DoFn<?, ?>.ProcessContext context) {
      return lookup;
    }

    @Override
    public SubscriberReader readerWithoutSideInput() {
      return lookup;
    }
  }
}
