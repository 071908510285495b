package org.apache.beam.runners.spark.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.io.Source;
import org.apache.beam.sdk.io.UnboundedSource;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The project's patch of Beam 2.70's {@code MicrobatchSource} (src/spark): the runner splits a
 * source again while it builds every micro-batch, and KafkaIO's split opens a consumer each time;
 * the same source is now split once.
 */
class MicrobatchSourcePatchTest {
  /** A source that counts its splits into two, as a topic of two partitions would be. */
  private static final class TwoPartitions
      extends UnboundedSource<Long, UnboundedSource.CheckpointMark> {
    private final AtomicInteger splits;

    TwoPartitions(AtomicInteger splits) {
      this.splits = splits;
    }

    @Override
    public List<TwoPartitions> split(int desired, PipelineOptions options) {
      splits.incrementAndGet();
      return List.of(new TwoPartitions(splits), new TwoPartitions(splits));
    }

    @Override
    public UnboundedReader<Long> createReader(PipelineOptions options, CheckpointMark mark) {
      throw new UnsupportedOperationException("not read here");
    }

    @Override
    public Coder<CheckpointMark> getCheckpointMarkCoder() {
      throw new UnsupportedOperationException("not checkpointed here");
    }

    @Override
    public Coder<Long> getOutputCoder() {
      return VarLongCoder.of();
    }
  }

  /** The source of one micro-batch, as SourceDStream makes it for each. */
  private static List<? extends Source<Long>> microBatch(TwoPartitions source) throws Exception {
    return new MicrobatchSource<>(source, Duration.millis(200), 2, 1_000, -1, 7, 1.0)
        .split(PipelineOptionsFactory.create());
  }

  @Test
  void aSourceIsSplitOnceForAllItsMicroBatches() throws Exception {
    AtomicInteger splits = new AtomicInteger();
    TwoPartitions source = new TwoPartitions(splits);
    for (int batch = 0; batch < 3; batch++) {
      List<? extends Source<Long>> parts = microBatch(source);
      assertEquals(
          List.of("7_0", "7_1"),
          parts.stream().map(p -> ((MicrobatchSource<?, ?>) p).getId()).toList());
    }
    assertEquals(1, splits.get(), "splits of the same source");
  }

  @Test
  void anotherSourceIsSplitItself() throws Exception {
    AtomicInteger splits = new AtomicInteger();
    microBatch(new TwoPartitions(splits));
    microBatch(new TwoPartitions(splits));
    assertEquals(2, splits.get(), "splits of two sources");
  }
}
