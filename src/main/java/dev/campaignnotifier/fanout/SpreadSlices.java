package dev.campaignnotifier.fanout;

import dev.campaignnotifier.model.Slice;
import dev.campaignnotifier.runner.RunnerProfile;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.values.PCollection;

/**
 * Deals a campaign's slices out over the workers: the campaign is fanned out by one worker, and
 * without this its whole delivery would stay on that worker's sinks however large the cluster.
 * Beam's {@code Reshuffle.viaRandomKey()}: a rebalance on Flink (round robin, no state), a
 * repartition of each micro-batch on Spark.
 *
 * <p>Not on the DirectRunner: it is one process, whose delivery step already keeps several slices
 * in flight, and there the reshuffle is a real group-by-key that re-encodes every slice (what it
 * cost: docs/performance.md).
 */
public final class SpreadSlices extends PTransform<PCollection<Slice>, PCollection<Slice>> {
  private final boolean spread;

  /** Spreads where the runner's profile says so ({@link RunnerProfile#spreadsSlices}). */
  public SpreadSlices(RunnerProfile runner) {
    this.spread = runner.spreadsSlices();
  }

  @Override
  public PCollection<Slice> expand(PCollection<Slice> slices) {
    if (!spread) {
      return slices;
    }
    return slices.apply("Reshuffle", Reshuffle.viaRandomKey());
  }
}
