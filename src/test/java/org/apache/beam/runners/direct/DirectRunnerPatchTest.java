package org.apache.beam.runners.direct;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.StreamSupport;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.io.Read;
import org.apache.beam.sdk.io.UnboundedSource;
import org.apache.beam.sdk.options.PipelineOptions;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.options.StreamingOptions;
import org.apache.beam.sdk.state.MapState;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.apache.beam.sdk.util.ReleaseInfo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The project's copies of five DirectRunner classes (src/direct/java) replace Beam's only because
 * they come first on the classpath, and they are copies of one Beam release. This test fails when
 * either of those stops being true, so an upgrade re-checks the patch instead of mixing two
 * releases.
 */
class DirectRunnerPatchTest {
  private static final int ELEMENTS = 1_000;

  /** Readers {@link CountingUpTo} opened, in this JVM. */
  private static final AtomicInteger READERS_OPENED = new AtomicInteger();

  /** Elements that reached the step after the read, in this JVM. */
  private static final AtomicInteger ELEMENTS_READ = new AtomicInteger();

  @Test
  void patchedClassesAreTheOnesLoaded() {
    for (Class<?> patched :
        new Class<?>[] {
          QuiescenceDriver.class,
          ExecutorServiceParallelExecutor.class,
          UnboundedReadEvaluatorFactory.class,
          ParDoEvaluatorFactory.class,
          CopyOnAccessInMemoryStateInternals.class
        }) {
      String from = patched.getProtectionDomain().getCodeSource().getLocation().toString();
      assertTrue(
          from.endsWith("/target/classes/"),
          patched.getSimpleName() + " was loaded from " + from + ", not the project's patch");
    }
  }

  @Test
  void patchIsForTheBeamReleaseInUse() {
    assertEquals(
        "2.70.0",
        ReleaseInfo.getReleaseInfo().getVersion(),
        "Beam changed: compare src/direct/java with the new release's classes of the same"
            + " names, re-apply the marked changes, then update this test");
  }

  /** Elements a {@link CountingUpTo} of bursts makes available at a time. */
  private static final int BURST_OF = 10;

  /**
   * 1,000 elements available 10 at a time take 100 reads. Upstream closes the reader after each
   * with a chance of 5% and opens a new one from the checkpoint (so upstream would pass this test
   * in 0.6% of runs); the patch keeps the one reader open.
   */
  @Test
  void oneReaderReadsTheWholeSource() {
    PipelineOptions options = streaming();
    Pipeline pipeline = Pipeline.create(options);
    pipeline
        .apply(Read.from(new CountingUpTo(ELEMENTS, true, BURST_OF)))
        .apply(ParDo.of(new Tally()));
    READERS_OPENED.set(0);
    ELEMENTS_READ.set(0);

    pipeline.run().waitUntilFinish();

    assertEquals(ELEMENTS, ELEMENTS_READ.get(), "elements read");
    assertEquals(1, READERS_OPENED.get(), "readers opened for " + ELEMENTS + " elements");
  }

  /** Options of a streaming pipeline on the DirectRunner. */
  private static PipelineOptions streaming() {
    PipelineOptions options = PipelineOptionsFactory.create();
    options.setRunner(DirectRunner.class);
    options.as(StreamingOptions.class).setStreaming(true);
    return options;
  }

  /** Values a map state's coder encoded, in this JVM. */
  private static final AtomicInteger VALUES_ENCODED = new AtomicInteger();

  /**
   * 1,000 elements of one key, each put into the key's map state, in about 100 bundles. Upstream
   * clones every entry of the map with its coders when a bundle first touches it, then puts the
   * originals back over the clones: about 50,000 encodings here, and quadratic in the entries of
   * one key (a restaurant with thousands of campaigns in the late step). The patch copies the
   * entries by reference: the same map, no encoding.
   */
  @Test
  void aMapStateIsNotClonedForEveryBundle() {
    PipelineOptions options = streaming();
    Pipeline pipeline = Pipeline.create(options);
    pipeline
        .apply(Read.from(new CountingUpTo(ELEMENTS, true, BURST_OF)))
        .apply(
            MapElements.into(
                    TypeDescriptors.kvs(TypeDescriptors.integers(), TypeDescriptors.integers()))
                .via(i -> KV.of(0, i)))
        .apply(ParDo.of(new KeepAll()));
    VALUES_ENCODED.set(0);
    ELEMENTS_READ.set(0);

    pipeline.run().waitUntilFinish();

    assertEquals(ELEMENTS, ELEMENTS_READ.get(), "elements kept");
    assertTrue(
        VALUES_ENCODED.get() < ELEMENTS,
        VALUES_ENCODED.get() + " values encoded for " + ELEMENTS + " puts");
  }

  /** Puts each element into its key's map and checks the map holds every one before it. */
  private static final class KeepAll extends DoFn<KV<Integer, Integer>, Void> {
    @StateId("all")
    private final StateSpec<MapState<Integer, Integer>> allSpec =
        StateSpecs.map(VarIntCoder.of(), new CountingIntCoder());

    @ProcessElement
    public void process(
        @Element KV<Integer, Integer> element, @StateId("all") MapState<Integer, Integer> all) {
      int i = element.getValue();
      all.put(i, i);
      ELEMENTS_READ.incrementAndGet();
      if (i == ELEMENTS - 1) {
        long kept = StreamSupport.stream(all.keys().read().spliterator(), false).count();
        assertEquals(ELEMENTS, kept, "entries in the map");
      }
    }
  }

  private static final class CountingIntCoder extends AtomicCoder<Integer> {
    @Override
    public void encode(Integer value, OutputStream out) throws IOException {
      VALUES_ENCODED.incrementAndGet();
      VarIntCoder.of().encode(value, out);
    }

    @Override
    public Integer decode(InputStream in) throws IOException {
      return VarIntCoder.of().decode(in);
    }
  }

  /** The highest checkpoint finalized: every element before it is done. */
  private static final AtomicInteger FINALIZED_UP_TO = new AtomicInteger();

  private static final int BURST = 25;

  /**
   * A source that gives 25 elements and then nothing for a while (a burst of campaigns, then a
   * quiet topic) has the checkpoint after its 25th finalized: KafkaIO commits its offsets when that
   * happens. Upstream finalizes a read's checkpoint only when a later read returns elements, so it
   * stays at the checkpoint before the last read (checked: 20 with the patch's line removed).
   */
  @Test
  void theLastReadIsFinalizedOnceTheReaderHasCaughtUp() throws Exception {
    PipelineOptions options = streaming();
    options.as(DirectOptions.class).setBlockOnRun(false);
    Pipeline pipeline = Pipeline.create(options);
    pipeline
        .apply(Read.from(new CountingUpTo(BURST, false, BURST_OF)))
        .apply(ParDo.of(new Tally()));
    FINALIZED_UP_TO.set(0);
    ELEMENTS_READ.set(0);

    PipelineResult result = pipeline.run();
    try {
      dev.campaignnotifier.it.Await.until(
          "the burst read and its last checkpoint finalized",
          java.time.Duration.ofSeconds(60),
          () -> ELEMENTS_READ.get() == BURST && FINALIZED_UP_TO.get() == BURST,
          () -> ": read " + ELEMENTS_READ.get() + ", finalized up to " + FINALIZED_UP_TO.get());
    } finally {
      result.cancel();
    }
  }

  private static final class Tally extends DoFn<Integer, Void> {
    private int inBundle;

    @StartBundle
    public void start() {
      inBundle = 0;
    }

    @ProcessElement
    public void process() {
      ELEMENTS_READ.incrementAndGet();
      inBundle++;
    }

    @FinishBundle
    public void finish() {
      LARGEST_BUNDLE.accumulateAndGet(inBundle, Math::max);
    }
  }

  /** The most elements a bundle after the read held, in this JVM. */
  private static final AtomicInteger LARGEST_BUNDLE = new AtomicInteger();

  /**
   * 1,000 elements available at once are read in bundles larger than 10. Upstream reads at most 10
   * elements at a time, and each bundle is a round of the runner's loop at every step after the
   * read: a rush of 10,000 campaigns was 1,000 bundles at each step (checked: 10 with upstream's
   * limit).
   */
  @Test
  void aReadTakesWhatIsAvailable() {
    Pipeline pipeline = Pipeline.create(streaming());
    pipeline
        .apply(Read.from(new CountingUpTo(ELEMENTS, true, ELEMENTS)))
        .apply(ParDo.of(new Tally()));
    ELEMENTS_READ.set(0);
    LARGEST_BUNDLE.set(0);

    pipeline.run().waitUntilFinish();

    assertEquals(ELEMENTS, ELEMENTS_READ.get(), "elements read");
    assertTrue(LARGEST_BUNDLE.get() > 10, "the largest bundle held " + LARGEST_BUNDLE.get());
  }

  /**
   * 0 to {@code size - 1}, available {@code burst} at a time (a reader's advance after each burst
   * finds nothing, the next one goes on), then the end of input ({@code ends}) or nothing more for
   * ever (a quiet topic: the watermark stays at the start of time); its checkpoint is the next
   * element.
   */
  private static final class CountingUpTo extends UnboundedSource<Integer, Checkpoint> {
    private final int size;
    private final boolean ends;
    private final int burst;

    CountingUpTo(int size, boolean ends, int burst) {
      this.size = size;
      this.ends = ends;
      this.burst = burst;
    }

    @Override
    public List<CountingUpTo> split(int desiredNumSplits, PipelineOptions options) {
      return List.of(this);
    }

    @Override
    public UnboundedReader<Integer> createReader(PipelineOptions options, Checkpoint mark) {
      READERS_OPENED.incrementAndGet();
      return new CountingReader(this, mark == null ? 0 : mark.next);
    }

    @Override
    public Coder<Checkpoint> getCheckpointMarkCoder() {
      return SerializableCoder.of(Checkpoint.class);
    }

    @Override
    public Coder<Integer> getOutputCoder() {
      return VarIntCoder.of();
    }
  }

  private record Checkpoint(int next)
      implements UnboundedSource.CheckpointMark, java.io.Serializable {
    @Override
    public void finalizeCheckpoint() {
      FINALIZED_UP_TO.accumulateAndGet(next, Math::max);
    }
  }

  private static final class CountingReader extends UnboundedSource.UnboundedReader<Integer> {
    private final CountingUpTo source;
    private int current;
    private int sinceBreak;

    CountingReader(CountingUpTo source, int next) {
      this.source = source;
      this.current = next - 1;
    }

    @Override
    public boolean start() {
      return advance();
    }

    @Override
    public boolean advance() {
      if (current + 1 >= source.size) {
        return false;
      }
      if (sinceBreak == source.burst) {
        sinceBreak = 0;
        return false;
      }
      current++;
      sinceBreak++;
      return true;
    }

    @Override
    public Integer getCurrent() {
      if (current < 0) {
        throw new NoSuchElementException();
      }
      return current;
    }

    @Override
    public Instant getCurrentTimestamp() {
      return BoundedWindow.TIMESTAMP_MIN_VALUE;
    }

    @Override
    public Instant getWatermark() {
      return source.ends && current + 1 >= source.size
          ? BoundedWindow.TIMESTAMP_MAX_VALUE
          : BoundedWindow.TIMESTAMP_MIN_VALUE;
    }

    @Override
    public UnboundedSource.CheckpointMark getCheckpointMark() {
      return new Checkpoint(current + 1);
    }

    @Override
    public CountingUpTo getCurrentSource() {
      return source;
    }

    @Override
    public void close() {}
  }
}
