package dev.campaignnotifier.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.beam.sdk.PipelineResult;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The Grafana dashboard in monitoring/ asks only for metrics the service's /metrics serves. */
class MonitoringFilesTest {
  /** A metric name in PromQL: an identifier followed by its label matcher. */
  private static final Pattern METRIC = Pattern.compile("([A-Za-z_:][A-Za-z0-9_:]*)\\{");

  /** A sample line's name in the exposition format. */
  private static final Pattern SAMPLE = Pattern.compile("^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]");

  @AfterEach
  void forget() {
    LiveState.reset();
  }

  @Test
  void everyMetricOfTheDashboardIsServed() throws IOException {
    PipelineResult result = BeamMetricsTest.countingPipeline();
    LiveState.snapshotLoaded(System.currentTimeMillis());
    Set<String> served = new TreeSet<>();
    for (String line : BeamMetricsTest.scrape(OpsServer.registry(() -> result)).split("\n")) {
      Matcher m = SAMPLE.matcher(line);
      if (m.find()) {
        served.add(m.group(1));
      }
    }

    JsonNode dashboard =
        new ObjectMapper().readTree(Path.of("monitoring/grafana-dashboard.json").toFile());
    Set<String> asked = new TreeSet<>();
    for (JsonNode panel : dashboard.get("panels")) {
      for (JsonNode target : panel.get("targets")) {
        Matcher m = METRIC.matcher(target.get("expr").asText());
        while (m.find()) {
          asked.add(m.group(1));
        }
      }
    }
    assertTrue(asked.size() > 10, asked.toString());
    Set<String> missing = new TreeSet<>(asked);
    missing.removeAll(served);
    assertEquals(Set.of(), missing, "asked by the dashboard, not served");
  }
}
