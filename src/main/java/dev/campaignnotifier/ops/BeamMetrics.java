package dev.campaignnotifier.ops;

import dev.campaignnotifier.model.DeadLetterReason;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.DistributionResult;
import org.apache.beam.sdk.metrics.GaugeResult;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;

/**
 * The pipeline's Beam metrics as Prometheus metrics, read from the runner's {@link PipelineResult}
 * at every scrape (attempted values, summed over the steps that report the same name). Beam's
 * {@code namespace/name} becomes {@code namespace_name}, the name Flink's reporter ends its own
 * with; counters get Prometheus's {@code _total}; {@code deadLetters/<REASON>} becomes one counter
 * with a {@code reason} label. Every metric of docs/operations.md's table is present from the first
 * scrape (at 0 until it moves), so a dashboard or an alert never meets a missing series.
 *
 * <p>Runners whose {@code run()} returns no handle while the job runs (Flink attached, Flink
 * detached) give nothing here; their metrics are scraped from Flink's own reporter.
 */
final class BeamMetrics implements MultiCollector {
  static final String DEAD_LETTERS = "deadLetters";

  /** Every counter the pipeline reports, {@code namespace/name} to its help text. */
  static final Map<String, String> COUNTERS = new LinkedHashMap<>();

  static {
    COUNTERS.put("campaigns/received", "Records read from the input topic.");
    COUNTERS.put("campaigns/parsed", "Valid campaigns.");
    COUNTERS.put("campaigns/deadLettered", "Records refused and sent to the dead-letter topic.");
    COUNTERS.put("campaigns/releasedAtOnce", "Campaigns active on arrival.");
    COUNTERS.put("campaigns/held", "Campaigns held until their start.");
    COUNTERS.put("campaigns/releasedAtStart", "Held campaigns released at their start.");
    COUNTERS.put("campaigns/expiredWhileHeld", "Held campaigns that ended before their start.");
    COUNTERS.put("campaigns/expired", "Campaigns that had ended when they arrived.");
    COUNTERS.put("campaigns/duplicates", "Repeats of a campaign id already received.");
    COUNTERS.put("campaigns/updated", "Campaigns published again with new fields (updated).");
    COUNTERS.put("campaigns/cancelled", "Campaigns published again so that nothing more is sent.");
    COUNTERS.put("campaigns/updatesAfterEnd", "New versions of ended or cancelled campaigns.");
    COUNTERS.put("campaigns/fanOutsStopped", "Fan-outs stopped: their campaign ended early.");
    COUNTERS.put("campaigns/fannedOut", "Campaigns fanned out.");
    COUNTERS.put("campaigns/endedBeforeFanOut", "Campaigns that ended while waiting to fan out.");
    COUNTERS.put("campaigns/postgresRetries", "Waits for PostgreSQL while fanning out.");
    COUNTERS.put("campaigns/alreadyFinished", "Replayed campaigns the ledger showed delivered.");
    COUNTERS.put("campaigns/beforeFirstRefresh", "Campaigns looked up before the first snapshot.");
    COUNTERS.put("campaigns/deadLettersNotRepeated", "Replayed bad records not sent twice.");
    COUNTERS.put("notifications/fannedOut", "Notifications made.");
    COUNTERS.put("notifications/lateSubscribers", "Clients notified as late subscribers.");
    COUNTERS.put("notifications/alreadyDelivered", "Clients skipped: a replay had reached them.");
    COUNTERS.put("notifications/withdrawn", "Notifications not sent: their campaign ended early.");
    COUNTERS.put(
        "notifications/favouriteRemoved",
        "Notifications not made: the client no longer had the restaurant in favourites.");
    COUNTERS.put("sinks/notificationsToKafka", "Notifications acknowledged by the broker.");
    COUNTERS.put("sinks/feedbackRowsToPostgres", "Feedback rows recorded.");
    COUNTERS.put("sinks/postgresRetries", "Waits for PostgreSQL while recording.");
    COUNTERS.put("sinks/kafkaRetries", "Messages sent again after the broker did not ack them.");
    COUNTERS.put("subscribers/lookups", "Subscriber lookup queries.");
    COUNTERS.put("subscribers/lookupRows", "Subscribers read by lookups.");
    COUNTERS.put("subscribers/postgresRetries", "Waits for PostgreSQL during a lookup.");
    COUNTERS.put("subscribers/refreshes", "Subscriber snapshots loaded.");
    COUNTERS.put("subscribers/refreshFailures", "Failed snapshot loads.");
  }

  static final String SNAPSHOT_PAIRS = "subscribers/snapshotPairs";
  static final String LOAD_MILLIS = "subscribers/loadMillis";

  private final Supplier<PipelineResult> result;

  BeamMetrics(Supplier<PipelineResult> result) {
    this.result = result;
  }

  /** Beam's {@code namespace/name} as a Prometheus name. */
  static String prometheusName(String beamName) {
    return beamName.replace('/', '_');
  }

  @Override
  public MetricSnapshots collect() {
    PipelineResult running = result.get();
    MetricSnapshots.Builder out = MetricSnapshots.builder();
    if (running == null) {
      return out.build();
    }
    MetricQueryResults metrics = running.metrics().queryMetrics(MetricsFilter.builder().build());
    Map<String, Long> counters = new TreeMap<>();
    COUNTERS.keySet().forEach(name -> counters.put(name, 0L));
    Map<String, Long> deadLetters = new TreeMap<>();
    for (DeadLetterReason reason : DeadLetterReason.values()) {
      deadLetters.put(reason.name(), 0L);
    }
    for (MetricResult<Long> c : metrics.getCounters()) {
      String namespace = c.getName().getNamespace();
      long value = c.getAttempted() == null ? 0 : c.getAttempted();
      if (namespace.equals(DEAD_LETTERS)) {
        deadLetters.merge(c.getName().getName(), value, Long::sum);
      } else {
        counters.merge(namespace + "/" + c.getName().getName(), value, Long::sum);
      }
    }
    counters.forEach(
        (name, value) ->
            out.metricSnapshot(
                CounterSnapshot.builder()
                    .name(prometheusName(name))
                    .help(COUNTERS.getOrDefault(name, "Beam counter " + name + "."))
                    .dataPoint(
                        CounterSnapshot.CounterDataPointSnapshot.builder().value(value).build())
                    .build()));
    CounterSnapshot.Builder byReason =
        CounterSnapshot.builder().name(DEAD_LETTERS).help("Records refused, by reason.");
    deadLetters.forEach(
        (reason, value) ->
            byReason.dataPoint(
                CounterSnapshot.CounterDataPointSnapshot.builder()
                    .labels(Labels.of("reason", reason))
                    .value(value)
                    .build()));
    out.metricSnapshot(byReason.build());

    long pairs = 0;
    for (MetricResult<GaugeResult> g : metrics.getGauges()) {
      if (SNAPSHOT_PAIRS.equals(g.getName().getNamespace() + "/" + g.getName().getName())
          && g.getAttempted() != null) {
        pairs = Math.max(pairs, g.getAttempted().getValue());
      }
    }
    out.metricSnapshot(
        GaugeSnapshot.builder()
            .name(prometheusName(SNAPSHOT_PAIRS))
            .help("Subscriptions in the subscriber snapshot in force (snapshot mode).")
            .dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().value(pairs).build())
            .build());

    long count = 0;
    long sum = 0;
    for (MetricResult<DistributionResult> d : metrics.getDistributions()) {
      if (LOAD_MILLIS.equals(d.getName().getNamespace() + "/" + d.getName().getName())
          && d.getAttempted() != null) {
        count += d.getAttempted().getCount();
        sum += d.getAttempted().getSum();
      }
    }
    out.metricSnapshot(
        SummarySnapshot.builder()
            .name(prometheusName(LOAD_MILLIS))
            .help("Time to load a subscriber snapshot, in milliseconds (count and sum).")
            .dataPoint(
                SummarySnapshot.SummaryDataPointSnapshot.builder().count(count).sum(sum).build())
            .build());
    return out.build();
  }
}
