package dev.campaignnotifier.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.junit.jupiter.api.Test;

class BeamMetricsTest {
  private static final Pattern COUNTER =
      Pattern.compile("Metrics\\.counter\\(\\s*\"(\\w+)\",\\s*\"(\\w+)\"\\)");

  /** Two steps count the same name, and one dead letter has a reason. */
  static final class CountFn extends DoFn<Integer, Void> {
    @ProcessElement
    public void process(@Element Integer n) {
      Metrics.counter("sinks", "kafkaRetries").inc(n);
      if (n == 2) {
        Metrics.counter("deadLetters", "NOT_JSON").inc();
      }
    }
  }

  /** A finished pipeline whose steps counted (see {@link CountFn}). */
  static PipelineResult countingPipeline() {
    Pipeline p = Pipeline.create(PipelineOptionsFactory.fromArgs("--runner=DirectRunner").create());
    p.apply("One", Create.of(1, 2)).apply("CountOne", ParDo.of(new CountFn()));
    p.apply("Two", Create.of(4)).apply("CountTwo", ParDo.of(new CountFn()));
    PipelineResult result = p.run();
    result.waitUntilFinish();
    return result;
  }

  /** What /metrics would serve from the registry. */
  static String scrape(PrometheusRegistry registry) throws IOException {
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    PrometheusTextFormatWriter.create().write(text, registry.scrape());
    return text.toString(StandardCharsets.UTF_8);
  }

  @Test
  void beamCountersBecomePrometheusCountersSummedOverSteps() throws IOException {
    PipelineResult result = countingPipeline();
    PrometheusRegistry registry = new PrometheusRegistry();
    registry.register(new BeamMetrics(() -> result));
    String scraped = scrape(registry);

    assertTrue(scraped.contains("\nsinks_kafkaRetries_total 7.0\n"), scraped);
    assertTrue(scraped.contains("\ndeadLetters_total{reason=\"NOT_JSON\"} 1.0\n"), scraped);
    assertTrue(scraped.contains("\ndeadLetters_total{reason=\"TOMBSTONE\"} 0.0\n"), scraped);
    assertTrue(scraped.contains("\ncampaigns_received_total 0.0\n"), "known but unmoved: 0");
  }

  @Test
  void noHandleNoBeamMetrics() {
    assertEquals(0, new BeamMetrics(() -> null).collect().size());
  }

  /**
   * Every counter the code declares is in the catalogue, and the catalogue in docs/operations.md.
   */
  @Test
  void theCatalogueHoldsEveryCounterOfTheCodeAndTheReadmeNamesThem() throws IOException {
    Set<String> declared = new TreeSet<>();
    try (Stream<Path> sources = Files.walk(Path.of("src/main/java"))) {
      for (Path source : sources.filter(f -> f.toString().endsWith(".java")).toList()) {
        Matcher m = COUNTER.matcher(Files.readString(source));
        while (m.find()) {
          declared.add(m.group(1) + "/" + m.group(2));
        }
      }
    }
    assertEquals(declared, new TreeSet<>(BeamMetrics.COUNTERS.keySet()));
    String readme = Files.readString(Path.of("docs/operations.md"));
    for (String name : BeamMetrics.COUNTERS.keySet()) {
      assertTrue(
          readme.contains("`" + name + "`"), "docs/operations.md's Metrics table lacks " + name);
    }
  }
}
