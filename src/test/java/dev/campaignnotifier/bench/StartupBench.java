package dev.campaignnotifier.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The {@code startup} mode: from the command to {@code /health/ready} (the pipeline running), for
 * the release archive's {@code bin/campaign-notifier} (a JRE and its {@code lib/}) and for the
 * development launcher {@code runners/direct.sh} (Maven resolves the class path first), on the same
 * servers, alternately. The archive is {@code target/campaign-notifier-*.tar.gz} ({@code mvn
 * package -DskipTests}).
 */
final class StartupBench extends BenchRun {
  private static final Duration DEADLINE = Duration.ofMinutes(3);

  StartupBench(BenchServers servers, String runner, String launch, List<String> serviceArgs) {
    super(servers, runner, launch, serviceArgs);
  }

  void startup(int repeats, Map<String, Object> result) throws Exception {
    Path archive = archive();
    Path unpacked = Files.createTempDirectory("bench-archive");
    run(List.of("tar", "xzf", archive.toString(), "-C", unpacked.toString()));
    Path bin;
    try (Stream<Path> dirs = Files.list(unpacked)) {
      bin = dirs.findFirst().orElseThrow().resolve("bin/campaign-notifier");
    }
    result.put("archive_bytes", Files.size(archive));
    Map<String, List<Double>> seconds = new LinkedHashMap<>();
    seconds.put("archive", new ArrayList<>());
    seconds.put("launcher", new ArrayList<>());
    for (int i = 0; i < repeats; i++) {
      seconds.get("archive").add(toReady(bin.toString(), "startup-a" + i));
      seconds
          .get("launcher")
          .add(toReady(Path.of("runners/direct.sh").toString(), "startup-l" + i));
    }
    seconds.forEach(
        (what, runs) -> {
          result.put(what + "_to_ready_s", runs);
          result.put(what + "_to_ready_median_s", percentile(runs, 50));
          System.out.printf(
              "startup: %s to /health/ready, median %.1f s of %s%n",
              what, percentile(runs, 50), runs);
        });
  }

  /** Seconds from the command to {@code /health/ready} answering {@code ready}. */
  private double toReady(String command, String name) throws Exception {
    servers.createTopics(name + "-in", name + "-out", name + "-dlq");
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    List<String> args = new ArrayList<>();
    args.add(command);
    args.addAll(servers.serviceArgs);
    args.addAll(
        List.of(
            "--inputTopic=" + name + "-in",
            "--outputTopic=" + name + "-out",
            "--deadLetterTopic=" + name + "-dlq",
            "--consumerGroup=" + name,
            "--metricsPort=" + port));
    args.addAll(serviceArgs);
    Path log = Files.createTempFile("bench-" + name, ".log");
    long started = System.nanoTime();
    Process process =
        new ProcessBuilder(args).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    HttpClient http = HttpClient.newHttpClient();
    HttpRequest ready =
        HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/health/ready")).build();
    try {
      long deadline = started + DEADLINE.toNanos();
      while (System.nanoTime() < deadline) {
        if (!process.isAlive()) {
          throw new IllegalStateException(name + " exited; its log: " + log);
        }
        try {
          HttpResponse<String> answer = http.send(ready, HttpResponse.BodyHandlers.ofString());
          if (answer.statusCode() == 200) {
            return round2((System.nanoTime() - started) / 1e9);
          }
        } catch (IOException notYet) {
          // The endpoint is not up yet.
        }
        Thread.sleep(50);
      }
      throw new IllegalStateException(name + " not ready within " + DEADLINE + "; log: " + log);
    } finally {
      process.descendants().forEach(ProcessHandle::destroy);
      process.destroy();
      process.waitFor();
    }
  }

  private static Path archive() throws IOException {
    try (Stream<Path> files = Files.list(Path.of("target"))) {
      return files
          .filter(f -> f.getFileName().toString().matches("campaign-notifier-.*\\.tar\\.gz"))
          .findFirst()
          .orElseThrow(
              () ->
                  new IllegalStateException(
                      "no target/campaign-notifier-*.tar.gz: run mvn package -DskipTests first"));
    }
  }

  private static void run(List<String> command) throws IOException, InterruptedException {
    if (new ProcessBuilder(command).inheritIO().start().waitFor() != 0) {
      throw new IllegalStateException("failed: " + command);
    }
  }
}
