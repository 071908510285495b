package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.local.Ports;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The release archive as an operator installs it: unpacked into a directory of its own, run by
 * {@code bin/campaign-notifier} with a JRE, an empty {@code HOME} and a {@code PATH} without Maven,
 * against real servers whose database holds the brief's two tables only.
 */
class ArchiveIT {
  private static final Duration WAIT = Duration.ofMinutes(3);
  private static Path unpacked;

  /** The archive {@code mvn package} built, unpacked once for the class. */
  @BeforeAll
  static void unpack() throws Exception {
    Path archive;
    try (Stream<Path> built = Files.list(Path.of("target"))) {
      archive =
          built
              .filter(p -> p.getFileName().toString().matches("campaign-notifier-.*\\.tar\\.gz"))
              .findFirst()
              .orElseThrow(() -> new AssertionError("no archive in target/: run mvn verify"));
    }
    Path dir = LocalServers.tempDir("archive");
    Process tar =
        new ProcessBuilder("tar", "xzf", archive.toAbsolutePath().toString(), "-C", dir.toString())
            .inheritIO()
            .start();
    assertEquals(0, tar.waitFor());
    try (Stream<Path> top = Files.list(dir)) {
      unpacked = top.findFirst().orElseThrow();
    }
  }

  /**
   * A directory of links to the few tools {@code bin/campaign-notifier} uses, to be the whole
   * {@code PATH}: no Maven, no {@code java} either (the JRE comes from {@code JAVA_HOME}).
   */
  private static Path toolsOnly() throws IOException {
    Path bin = LocalServers.tempDir("path");
    for (String tool : List.of("bash", "env", "dirname", "readlink", "grep", "sed", "tr")) {
      Path real =
          Stream.of(Path.of("/usr/bin", tool), Path.of("/bin", tool))
              .filter(Files::exists)
              .findFirst()
              .orElseThrow(() -> new AssertionError("no " + tool + " on this machine"));
      Files.createSymbolicLink(bin.resolve(tool), real);
    }
    return bin;
  }

  private static ServiceProcess start(List<String> args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(unpacked.resolve("bin/campaign-notifier").toString());
    command.addAll(args);
    Map<String, String> env = new HashMap<>();
    env.put("HOME", LocalServers.tempDir("empty-home").toString());
    env.put("PATH", toolsOnly().toString());
    env.put("JAVA_HOME", System.getProperty("java.home"));
    return ServiceProcess.exec(command, env, "archive", true);
  }

  private static CampaignNotifierOptions briefTablesOnly() {
    CampaignNotifierOptions options = ServiceClient.options(true);
    options.setJdbcUrl(LocalServers.postgres().createBriefDatabase(LocalServers.unique("brief")));
    return options;
  }

  @Test
  void theArchiveRunsWithAJreAloneAndCreatesItsOwnTables() throws Exception {
    CampaignNotifierOptions options = briefTablesOnly();
    int port = Ports.free();
    List<String> args = new ArrayList<>(ServiceClient.serviceArgs(options, options.getJdbcUrl()));
    args.removeIf(a -> a.startsWith("--metricsPort="));
    args.add("--metricsPort=" + port);
    try (ServiceClient client = new ServiceClient(options)) {
      long started = System.nanoTime();
      try (ServiceProcess service = start(args)) {
        Await.until(
            "ready",
            WAIT,
            () ->
                service.alive("the archive's service")
                    && ClusterKit.httpGet("http://localhost:" + port + "/health/ready")
                        .equals("ready\n"),
            () -> "\n" + service.log());
        System.out.printf(
            "archive: start to /health/ready in %.1f s%n", (System.nanoTime() - started) / 1e9);
        assertEquals(
            2,
            client.count(
                "SELECT count(*) FROM public.campaign_notifier_schema_history"
                    + " WHERE success AND version IN ('1', '2')"),
            "the service created its two tables\n" + service.log());
        long now = Instant.now().getEpochSecond();
        client.publish(
            "k", Samples.campaignJson("archive", Samples.RESTAURANT, now - 60, now + 3600));
        Await.until("9 rows", WAIT, () -> client.rowsOf("archive") == 9, service::log);
        Await.until("9 messages", WAIT, () -> client.notifications().size() == 9);
        assertEquals(9, client.notificationsByKey().size());
        assertEquals(
            1,
            client.count(
                "SELECT count(*) FROM public.campaign_slices WHERE adv_campaign_id = 'archive'"));
        service.stop();
      }
    }
  }

  @Test
  void withoutInitSchemaAMissingLedgerIsTheClearStartUpError() throws Exception {
    CampaignNotifierOptions options = briefTablesOnly();
    List<String> args = new ArrayList<>(ServiceClient.serviceArgs(options, options.getJdbcUrl()));
    args.add("--initSchema=false");
    try (ServiceProcess service = start(args)) {
      Await.until("the exit", WAIT, () -> !service.isAlive());
      assertEquals(2, service.exitCode(), service.log());
      assertTrue(
          service
              .log()
              .contains(
                  "campaign-notifier: Table public.campaign_slices (the delivery ledger) does not"
                      + " exist"),
          service.log());
    }
  }

  /** The unit, pointed into the unpacked archive, is one systemd accepts. */
  @Test
  void theSystemdUnitVerifies() throws Exception {
    Path analyze = Path.of("/usr/bin/systemd-analyze");
    Assumptions.assumeTrue(Files.isExecutable(analyze), "systemd-analyze is not installed here");
    Path dir = LocalServers.tempDir("unit");
    Path env = dir.resolve("campaign-notifier.env");
    Files.copy(unpacked.resolve("systemd/campaign-notifier.env"), env);
    Path password = Files.writeString(dir.resolve("jdbc-password"), "secret\n");
    String unit =
        Files.readString(unpacked.resolve("systemd/campaign-notifier.service"))
            .replace("/opt/campaign-notifier", unpacked.toString())
            .replace("/etc/campaign-notifier/campaign-notifier.env", env.toString())
            .replace("/etc/campaign-notifier/jdbc-password", password.toString())
            .replace("User=campaign-notifier", "User=root");
    Path file = Files.writeString(dir.resolve("campaign-notifier.service"), unit);
    Process verify =
        new ProcessBuilder(analyze.toString(), "verify", file.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(verify.getInputStream().readAllBytes());
    assertEquals(0, verify.waitFor(), out);
    assertEquals("", out.strip(), "systemd-analyze had something to say");
  }
}
