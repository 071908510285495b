package dev.campaignnotifier.it;

import dev.campaignnotifier.CampaignNotifier;
import dev.campaignnotifier.local.EmbeddedKafka;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import java.time.Duration;
import java.util.stream.StreamSupport;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;

/**
 * The service running in this JVM for one test, started exactly as {@code main} starts it, on its
 * own topics and database; the client helpers of {@link ServiceClient}, plus the pipeline's
 * counters and state.
 */
public final class RunningPipeline extends ServiceClient {
  private final PipelineResult result;

  private RunningPipeline(CampaignNotifierOptions options, PipelineResult result) {
    super(options);
    this.result = result;
  }

  /** Creates topics and a database with the brief's sample subscribers, then starts the service. */
  public static RunningPipeline start(String... extraArgs) {
    return start(true, extraArgs);
  }

  public static RunningPipeline start(boolean sampleSubscribers, String... extraArgs) {
    return start(LocalServers.kafka(), sampleSubscribers, extraArgs);
  }

  /** Starts the service against {@code kafka}, which may be a secured broker. */
  public static RunningPipeline start(
      EmbeddedKafka kafka, boolean sampleSubscribers, String... extraArgs) {
    CampaignNotifierOptions options = options(kafka, sampleSubscribers, extraArgs);
    return new RunningPipeline(options, CampaignNotifier.run(options));
  }

  /** The attempted value of a pipeline counter, 0 before it is first incremented. */
  public long counter(String namespace, String name) {
    Iterable<MetricResult<Long>> counters =
        result
            .metrics()
            .queryMetrics(
                MetricsFilter.builder()
                    .addNameFilter(MetricNameFilter.named(namespace, name))
                    .build())
            .getCounters();
    return StreamSupport.stream(counters.spliterator(), false)
        .mapToLong(MetricResult::getAttempted)
        .sum();
  }

  public void awaitCounter(String namespace, String name, long atLeast) {
    Await.until(
        namespace + "/" + name + " >= " + atLeast,
        Duration.ofSeconds(60),
        () -> counter(namespace, name) >= atLeast,
        () -> ", it is " + counter(namespace, name));
  }

  /** Stops this pipeline, then starts the service again on the same topics, group and database. */
  public RunningPipeline restart() {
    close();
    return new RunningPipeline(options, CampaignNotifier.run(options));
  }

  public PipelineResult.State state() {
    return result.getState();
  }

  /**
   * Cancels the pipeline. Spark's stop interrupts the micro-batch being generated, and its result
   * then rethrows that interruption ("Failed to create partitions": the Kafka source was being
   * split); a failure the stop itself caused is not the test's, anything else is.
   */
  @Override
  public void close() {
    super.close();
    try {
      result.cancel();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (RuntimeException e) {
      if (!interruptedByTheStop(e)) {
        throw e;
      }
    }
  }

  private static boolean interruptedByTheStop(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof InterruptedException
          || t instanceof org.apache.kafka.common.errors.InterruptException) {
        return true;
      }
    }
    return false;
  }
}
