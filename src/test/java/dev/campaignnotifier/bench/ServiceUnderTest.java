package dev.campaignnotifier.bench;

import dev.campaignnotifier.local.SampleCampaign;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The service under measurement, in a process of its own as a user runs it: by default through its
 * launcher ({@code runners/direct.sh}, {@code flink-local.sh}, {@code spark-local.sh}, so with the
 * launcher's settings), or from this JVM's class path on the DirectRunner ({@code
 * --launch=classpath}, for the small run in CI). Its CPU time is read from the operating system for
 * that process alone.
 */
final class ServiceUnderTest implements AutoCloseable {
  private static final Duration DEADLINE = Duration.ofMinutes(5);
  private static final Pattern FANNED_OUT =
      Pattern.compile("^(\\d\\d:\\d\\d:\\d\\d\\.\\d{3}) .*Fanned out campaign (\\S+) of ");

  /**
   * Subscribers of the warm-up campaign, which also says the service is ready: enough for the JIT
   * compiler to have seen the delivery path, as in a service that has been running for a while.
   */
  static final int WARM_UP = 10_000;

  /** The name the benchmark gives the plain Structured Streaming job ({@link #startPeer}). */
  static final String PEER = "StructuredStreaming";

  final String runner;
  private final BenchServers servers;

  /** Where it records notifications: the service's table, or the peer's. */
  private final String feedbackTable;

  private final Process process;
  private final Path log;
  private final String inputTopic;
  private final KafkaConsumer<String, String> watcher;
  private final KafkaProducer<String, String> publisher;

  /** When each campaign was published, wall clock (epoch ms), to compare with the service's log. */
  private final Map<String, Long> publishedAt = new ConcurrentHashMap<>();

  private ServiceUnderTest(
      String runner,
      BenchServers servers,
      Process process,
      Path log,
      String name,
      String feedbackTable) {
    this.runner = runner;
    this.servers = servers;
    this.feedbackTable = feedbackTable;
    this.process = process;
    this.log = log;
    this.inputTopic = name + "-in";
    this.watcher =
        new KafkaConsumer<>(
            servers.kafkaClients.configure(
                Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers.bootstrapServers)),
            new StringDeserializer(),
            new StringDeserializer());
    this.publisher = servers.producer();
    TopicPartition out = new TopicPartition(name + "-out", 0);
    watcher.assign(List.of(out));
    watcher.seekToEnd(List.of(out));
    watcher.position(out);
  }

  /**
   * Starts the service on fresh topics named after {@code name} and returns once a warm-up campaign
   * has gone all the way through (snapshot loaded, every stage run).
   */
  static ServiceUnderTest start(
      BenchServers servers, String runner, String launch, List<String> extraArgs, String name)
      throws Exception {
    servers.createTopics(name + "-in", name + "-out", name + "-dlq");
    servers.subscribers("warm-up-" + name, WARM_UP);
    return launch(servers, runner, launch, extraArgs, name, "warm-up-" + name, true);
  }

  /**
   * Starts the service again on the topics, consumer group and tables of an earlier {@link #start}
   * with the same {@code name}, and returns once a new campaign ({@code warmUp}, to the warm-up
   * restaurant), published right after the start, has been delivered.
   */
  static ServiceUnderTest restart(
      BenchServers servers,
      String runner,
      String launch,
      List<String> extraArgs,
      String name,
      String warmUp)
      throws Exception {
    return launch(servers, runner, launch, extraArgs, name, warmUp, false);
  }

  private static ServiceUnderTest launch(
      BenchServers servers,
      String runner,
      String launch,
      List<String> extraArgs,
      String name,
      String warmUp,
      boolean watchRows)
      throws Exception {
    List<String> args = new ArrayList<>(servers.serviceArgs);
    args.add("--inputTopic=" + name + "-in");
    args.add("--outputTopic=" + name + "-out");
    args.add("--deadLetterTopic=" + name + "-dlq");
    args.add("--consumerGroup=" + name);
    if (extraArgs.stream().noneMatch(a -> a.startsWith("--metricsPort="))) {
      args.add("--metricsPort=0");
    }
    args.addAll(extraArgs);
    List<String> command = new ArrayList<>();
    ProcessBuilder builder = new ProcessBuilder(command);
    if (launch.equals("classpath")) {
      if (!runner.equals("DirectRunner")) {
        throw new IllegalArgumentException("--launch=classpath runs the DirectRunner only");
      }
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.add(System.getenv().getOrDefault("SERVICE_HEAP", "-Xmx1g"));
      command.add("-cp");
      command.add(System.getProperty("java.class.path"));
      command.add("dev.campaignnotifier.CampaignNotifier");
      command.add("--runner=DirectRunner");
    } else {
      command.add(Path.of("runners", launcher(runner)).toAbsolutePath().toString());
      builder
          .environment()
          .put(
              "JAVA_OPTS",
              System.getenv().getOrDefault("SERVICE_JAVA_OPTS", "-Xmx4g")
                  + " -DcheckpointLog=INFO");
      builder
          .environment()
          .put("CHECKPOINT_DIR", Files.createTempDirectory("bench-checkpoint").toString());
    }
    command.addAll(args);
    Path log = Files.createTempFile("bench-service-" + name, ".log");
    builder.redirectErrorStream(true).redirectOutput(log.toFile());
    System.out.println("benchmark: starting " + runner + " (log: " + log + ")");
    ServiceUnderTest service =
        new ServiceUnderTest(runner, servers, builder.start(), log, name, BenchServers.FEEDBACK);
    try {
      if (watchRows) {
        service.deliver(warmUp, "warm-up-" + name, WARM_UP);
      } else {
        service.awaitMessages(warmUp, WARM_UP, service.publish(warmUp, "warm-up-" + name));
      }
      return service;
    } catch (Exception | Error e) {
      service.close();
      throw e;
    }
  }

  /**
   * Starts the plain Structured Streaming job ({@code src/test/peer}, built here on first use) in a
   * JVM of its own on fresh topics named after {@code name}, recording into {@link
   * BenchServers#PEER_FEEDBACK} (the brief's table without the service's unique index), and returns
   * once a warm-up campaign has gone all the way through. It reads the subscribers once, at start.
   */
  static ServiceUnderTest startPeer(BenchServers servers, String name) throws Exception {
    servers.createTopics(name + "-in", name + "-out");
    servers.subscribers("warm-up-" + name, WARM_UP);
    servers.createPeerTable();
    Path peer = Path.of("src", "test", "peer").toAbsolutePath();
    Path classpath = peer.resolve("target").resolve("classpath.txt");
    Process build =
        new ProcessBuilder(
                "mvn",
                "-q",
                "-B",
                "-f",
                peer.resolve("pom.xml").toString(),
                "package",
                "dependency:build-classpath",
                "-Dmdep.outputFile=" + classpath)
            .inheritIO()
            .start();
    if (build.waitFor() != 0) {
      throw new IllegalStateException("building the peer job (src/test/peer) failed");
    }
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of(Files.readString(Path.of(".mvn", "jvm.config")).trim().split("\\s+")));
    command.addAll(
        List.of(System.getenv().getOrDefault("SERVICE_JAVA_OPTS", "-Xmx4g").split("\\s+")));
    command.add("-cp");
    command.add(peer.resolve("target").resolve("classes") + ":" + Files.readString(classpath));
    command.add("dev.campaignnotifier.peer.PlainStructuredStreamingJob");
    command.add("--bootstrapServers=" + servers.bootstrapServers);
    command.add("--inputTopic=" + name + "-in");
    command.add("--outputTopic=" + name + "-out");
    command.add("--jdbcUrl=" + servers.jdbcUrl);
    command.add("--jdbcUser=" + servers.jdbcUser);
    servers.serviceArgs.stream()
        .filter(a -> a.startsWith("--jdbcPasswordFile="))
        .forEach(command::add);
    command.add("--feedbackTable=" + BenchServers.PEER_FEEDBACK);
    command.add("--checkpointDir=" + Files.createTempDirectory("bench-peer-checkpoint"));
    Path log = Files.createTempFile("bench-peer-" + name, ".log");
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.redirectErrorStream(true).redirectOutput(log.toFile());
    System.out.println("benchmark: starting the plain Structured Streaming job (log: " + log + ")");
    ServiceUnderTest service =
        new ServiceUnderTest(PEER, servers, builder.start(), log, name, BenchServers.PEER_FEEDBACK);
    try {
      service.deliver("warm-up-" + name, "warm-up-" + name, WARM_UP);
      return service;
    } catch (Exception | Error e) {
      service.close();
      throw e;
    }
  }

  /** Whether this is the plain Structured Streaming job, which keeps no delivery ledger. */
  boolean isPeer() {
    return runner.equals(PEER);
  }

  static String launcher(String runner) {
    return switch (runner) {
      case "DirectRunner" -> "direct.sh";
      case "FlinkRunner" -> "flink-local.sh";
      case "SparkRunner" -> "spark-local.sh";
      default -> throw new IllegalArgumentException("--runner must be Direct, Flink or Spark");
    };
  }

  /** CPU time (user + system) of the service's process so far, in seconds. */
  double cpuSeconds() {
    // The launcher execs java, so the process is the JVM itself.
    return ProcessHandle.of(process.pid())
            .flatMap(p -> p.info().totalCpuDuration())
            .orElseThrow(() -> new IllegalStateException("no CPU time for the service"))
            .toNanos()
        / 1e9;
  }

  /**
   * Heap the service holds after a full collection, in bytes (jcmd's {@code GC.run}, then {@code
   * GC.heap_info}): what it keeps, not what it has yet to collect.
   */
  long heapAfterGcBytes() throws IOException, InterruptedException {
    jcmd("GC.run");
    Matcher used = HEAP_USED.matcher(jcmd("GC.heap_info"));
    if (!used.find()) {
      throw new IllegalStateException("jcmd GC.heap_info: no heap figure for " + process.pid());
    }
    return Long.parseLong(used.group(1)) * 1024;
  }

  private static final Pattern HEAP_USED = Pattern.compile("heap\\s+total \\d+K, used (\\d+)K");

  private String jcmd(String command) throws IOException, InterruptedException {
    Process jcmd =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                Long.toString(process.pid()),
                command)
            .redirectErrorStream(true)
            .start();
    String out = new String(jcmd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (jcmd.waitFor() != 0) {
      throw new IllegalStateException("jcmd " + command + " failed: " + out);
    }
    return out;
  }

  /** The service's log so far. */
  String log() throws IOException {
    return Files.readString(log, StandardCharsets.UTF_8);
  }

  /** SIGKILL: no shutdown hook, nothing flushed, as a crash. */
  void kill() throws InterruptedException {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /**
   * Publishes campaigns ({campaign id, restaurant} each) at once, then waits for the broker;
   * returns when the first was sent ({@link System#nanoTime}).
   */
  long publishAll(List<String[]> campaigns) {
    long now = Instant.now().getEpochSecond();
    long published = System.nanoTime();
    for (String[] c : campaigns) {
      publisher.send(
          new ProducerRecord<>(inputTopic, "k", campaignJson(c[0], c[1], now - 10, now + 3600)));
    }
    publisher.flush();
    return published;
  }

  /**
   * Publishes {@code n} campaigns of distinct ids that ended a minute ago (dropped on arrival), as
   * months of campaigns leave their ids behind; waits for the broker.
   */
  void publishEnded(int n) {
    long now = Instant.now().getEpochSecond();
    for (int i = 0; i < n; i++) {
      publisher.send(
          new ProducerRecord<>(
              inputTopic, "k", campaignJson("ended-" + i, "r-ended", now - 3600, now - 60)));
    }
    publisher.flush();
  }

  /**
   * Publishes n campaigns, each a new id, active from now for {@code seconds}, on up to {@code
   * restaurants} restaurants that nobody has in favourites: they come and go through every stateful
   * step (held, seen, late subscribers) without a notification. Returns when they have all ended.
   */
  long publishBrief(int n, int restaurants, int seconds) {
    long now = Instant.now().getEpochSecond();
    for (int i = 0; i < n; i++) {
      publisher.send(
          new ProducerRecord<>(
              inputTopic,
              "k",
              campaignJson("brief-" + i, "r-brief-" + (i % restaurants), now - 1, now + seconds)));
    }
    publisher.flush();
    return now + seconds;
  }

  /** Publishes a campaign without waiting for it. */
  long publish(String campaign, String restaurant) throws Exception {
    long now = Instant.now().getEpochSecond();
    long published = System.nanoTime();
    publishedAt.put(campaign, System.currentTimeMillis());
    publisher
        .send(
            new ProducerRecord<>(
                inputTopic, "k", campaignJson(campaign, restaurant, now - 10, now + 3600)))
        .get();
    return published;
  }

  /** Publishes one campaign and waits for its n rows and n messages. */
  Timing deliver(String campaign, String restaurant, int n) throws Exception {
    long idsBefore = servers.idsDrawn();
    long published = publish(campaign, restaurant);
    return await(campaign, n, published, idsBefore);
  }

  /**
   * Waits for a published campaign's n messages only, without reading PostgreSQL: for figures of
   * what the service itself reads there.
   */
  Timing awaitMessages(String campaign, int n, long published) throws Exception {
    return await(campaign, n, published, 0, false);
  }

  /** Waits for a published campaign's n rows and n messages. */
  Timing await(String campaign, int n, long published, long idsBefore) throws Exception {
    return await(campaign, n, published, idsBefore, true);
  }

  private Timing await(String campaign, int n, long published, long idsBefore, boolean watchRows)
      throws Exception {
    return await(
        campaign + ":",
        n,
        published,
        idsBefore,
        watchRows,
        () -> servers.rows(feedbackTable, campaign));
  }

  /**
   * Waits for the n messages whose keys start with {@code keyPrefix} (the campaigns of a rush) and
   * for the feedback table, emptied before, to hold n rows.
   */
  Timing awaitAll(String keyPrefix, int n, long published, long idsBefore) throws Exception {
    return await(
        keyPrefix,
        n,
        published,
        idsBefore,
        true,
        () -> servers.query("SELECT count(*) FROM " + feedbackTable));
  }

  private Timing await(
      String prefix,
      int n,
      long published,
      long idsBefore,
      boolean watchRows,
      java.util.function.LongSupplier rowsSoFar)
      throws Exception {
    String campaign = prefix;
    AtomicLong firstMessage = new AtomicLong();
    AtomicLong lastMessage = new AtomicLong();
    CompletableFuture<Long> messages =
        CompletableFuture.supplyAsync(
            () -> {
              long seen = 0;
              long deadline = System.nanoTime() + DEADLINE.toNanos();
              while (seen < n && System.nanoTime() < deadline && process.isAlive()) {
                for (ConsumerRecord<String, String> r : watcher.poll(Duration.ofMillis(20))) {
                  if (r.key() != null && r.key().startsWith(prefix)) {
                    if (seen++ == 0) {
                      firstMessage.set(System.nanoTime());
                    }
                    lastMessage.set(System.nanoTime());
                  }
                }
              }
              return seen;
            });
    if (!watchRows) {
      long seen = messages.get();
      if (seen < n) {
        throw new IllegalStateException(
            String.format(
                Locale.ROOT,
                "campaign %s: %d of %d messages in time; the service's log: %s",
                campaign,
                seen,
                n,
                log));
      }
      double first = (firstMessage.get() - published) / 1e6;
      double last = (lastMessage.get() - published) / 1e6;
      return new Timing(first, last, first, last);
    }
    long firstRow = 0;
    long lastRow = 0;
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    // Cheap progress from the id sequence; the exact count only once the ids say it may be done.
    while (System.nanoTime() < deadline && process.isAlive()) {
      long drawn = servers.idsDrawn() - idsBefore;
      if (firstRow == 0 && drawn > 0 && rowsSoFar.getAsLong() > 0) {
        firstRow = System.nanoTime();
      }
      if (drawn >= n && rowsSoFar.getAsLong() >= n) {
        lastRow = System.nanoTime();
        break;
      }
      Thread.sleep(5);
    }
    long seen = messages.get();
    if (lastRow == 0 || seen < n) {
      throw new IllegalStateException(
          String.format(
              Locale.ROOT,
              "campaign %s: %d of %d messages and not all rows in time; the service's log: %s%s",
              campaign,
              seen,
              n,
              log,
              process.isAlive() ? "" : " (it exited with " + process.exitValue() + ")"));
    }
    if (firstRow == 0) {
      firstRow = lastRow;
    }
    return new Timing(
        (firstRow - published) / 1e6,
        (lastRow - published) / 1e6,
        (firstMessage.get() - published) / 1e6,
        (lastMessage.get() - published) / 1e6);
  }

  /** When {@code campaign} was published, wall clock (epoch ms). */
  long publishedAt(String campaign) {
    return publishedAt.get(campaign);
  }

  /**
   * Publish to the service's "Fanned out campaign" log line, in milliseconds, for each campaign
   * published by {@link #publish} that the log names: what part of a campaign's time passed before
   * its fan-out (read, scheduled, fanned out) and what part after it (the sinks). The log's times
   * are wall clock to the millisecond, of the same machine.
   */
  Map<String, Long> fannedOutMillis() throws IOException {
    return fannedOutMillis(
        Files.readAllLines(log, StandardCharsets.UTF_8), publishedAt, ZoneId.systemDefault());
  }

  /**
   * For each campaign of {@code publishedAt} (epoch ms) that {@code log} says was fanned out, the
   * milliseconds in between; the log's times are of day, in {@code zone}.
   */
  static Map<String, Long> fannedOutMillis(
      List<String> log, Map<String, Long> publishedAt, ZoneId zone) {
    Map<String, Long> result = new HashMap<>();
    for (String line : log) {
      Matcher m = FANNED_OUT.matcher(line);
      Long at = m.find() ? publishedAt.get(m.group(2)) : null;
      if (at != null) {
        long loggedOfDay = LocalTime.parse(m.group(1)).toNanoOfDay() / 1_000_000;
        long publishedOfDay =
            Instant.ofEpochMilli(at).atZone(zone).toLocalTime().toNanoOfDay() / 1_000_000;
        result.put(m.group(2), Math.floorMod(loggedOfDay - publishedOfDay, 86_400_000L));
      }
    }
    return result;
  }

  /** Stops the service as an operator would (SIGTERM), and kills it if it does not go. */
  @Override
  public void close() throws InterruptedException {
    watcher.close();
    publisher.close();
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  static String campaignJson(String id, String restaurant, long start, long end) {
    return SampleCampaign.json(id, restaurant, start, end, start);
  }

  /** Publish to first/last row and message, in milliseconds. */
  record Timing(
      double firstRowMillis,
      double lastRowMillis,
      double firstMessageMillis,
      double lastMessageMillis) {
    double bothMillis() {
      return Math.max(lastRowMillis, lastMessageMillis);
    }
  }
}
