package dev.campaignnotifier.bench;

import dev.campaignnotifier.CampaignNotifier;
import dev.campaignnotifier.io.DeliverNotifications;
import dev.campaignnotifier.io.SubscriberTable;
import dev.campaignnotifier.local.EmbeddedKafka;
import dev.campaignnotifier.local.EmbeddedPostgresServer;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Notification;
import dev.campaignnotifier.model.NotificationJson;
import dev.campaignnotifier.model.SubscriberSnapshot;
import dev.campaignnotifier.options.CampaignNotifierOptions;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.postgresql.PGConnection;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Measures the service on embedded servers, in three modes:
 *
 * <ul>
 *   <li>{@code fanout}: one campaign to N subscribers; publish to first and last row and message,
 *       each sink's throughput, and the sink floor (COPY of the same N rows and a bare producer of
 *       the same N messages with the same settings, both at once) with the ratio to it.
 *   <li>{@code latency}: 30 campaigns of 1,000 subscribers, one at a time; p50 and p99 of publish
 *       to last row and to last message.
 *   <li>{@code scale}: N subscription rows over 10,000 restaurants; snapshot load time, a second
 *       load (the refresh), and the heap the snapshot holds.
 * </ul>
 *
 * <p>Options: {@code --mode=fanout|latency|scale}, {@code --subscribers=N}; anything else is a
 * service option (e.g. {@code --runner=FlinkRunner}). Prints a table and one line starting {@code
 * BENCHMARK } with the figures as JSON.
 */
public final class Benchmark {
  private static final String RESTAURANT = "bench-restaurant";
  private static final long DEADLINE_MINUTES = 10;

  private final EmbeddedKafka kafka;
  private final EmbeddedPostgresServer postgres;
  private final String url;
  private final DataSource db;

  private Benchmark(EmbeddedKafka kafka, EmbeddedPostgresServer postgres, String database) {
    this.kafka = kafka;
    this.postgres = postgres;
    this.url = postgres.createDatabase(database, false);
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(url);
    ds.setUser(EmbeddedPostgresServer.USER);
    this.db = ds;
  }

  public static void main(String[] args) {
    int status = 0;
    try {
      System.out.println("BENCHMARK " + toJson(run(args)));
    } catch (Exception e) {
      e.printStackTrace();
      status = 1;
    }
    // Runners leave non-daemon threads behind after cancel; the measurement is done (or failed).
    System.exit(status);
  }

  /** Runs one benchmark on fresh embedded servers and returns its figures. */
  public static Map<String, Object> run(String[] args) throws Exception {
    Map<String, String> own = new HashMap<>();
    List<String> service = new ArrayList<>();
    for (String arg : args) {
      if (arg.startsWith("--mode=") || arg.startsWith("--subscribers=")) {
        String[] kv = arg.substring(2).split("=", 2);
        own.put(kv[0], kv[1]);
      } else {
        service.add(arg);
      }
    }
    String mode = own.getOrDefault("mode", "fanout");
    int n = Integer.parseInt(own.getOrDefault("subscribers", "10000").replace("_", ""));
    EmbeddedKafka kafka = EmbeddedKafka.start(Files.createTempDirectory("bench-kafka"), 0);
    EmbeddedPostgresServer postgres = EmbeddedPostgresServer.start(0);
    try {
      Benchmark bench = new Benchmark(kafka, postgres, "bench");
      Map<String, Object> result =
          switch (mode) {
            case "fanout" -> bench.fanout(n, service);
            case "latency" -> bench.latency(service);
            case "scale" -> bench.scale(n, service);
            default ->
                throw new IllegalArgumentException("--mode must be fanout, latency or scale");
          };
      result.put("mode", mode);
      result.put("cores", Runtime.getRuntime().availableProcessors());
      return result;
    } finally {
      kafka.close();
      postgres.close();
    }
  }

  // ---------------------------------------------------------------- fan-out against the floor

  Map<String, Object> fanout(int n, List<String> serviceArgs) throws Exception {
    subscribers(RESTAURANT, n);
    noise(n / 10);
    double floorMillis = floor(n);

    try (Service service = Service.start(this, serviceArgs, "fanout")) {
      long now = Instant.now().getEpochSecond();
      Timing t = service.deliver("bench-campaign", RESTAURANT, n, now);
      double pipelineMillis = Math.max(t.lastRowMillis, t.lastMessageMillis);
      Map<String, Object> r = new java.util.LinkedHashMap<>();
      r.put("runner", service.runner);
      r.put("subscribers", n);
      r.put("publish_to_first_row_ms", t.firstRowMillis);
      r.put("publish_to_last_row_ms", t.lastRowMillis);
      r.put("publish_to_first_message_ms", t.firstMessageMillis);
      r.put("publish_to_last_message_ms", t.lastMessageMillis);
      r.put("rows_per_s", Math.round(n / (t.lastRowMillis / 1000.0)));
      r.put("messages_per_s", Math.round(n / (t.lastMessageMillis / 1000.0)));
      r.put("floor_ms", Math.round(floorMillis));
      r.put("ratio_to_floor", Math.round(pipelineMillis / floorMillis * 100) / 100.0);
      System.out.printf(
          Locale.ROOT,
          "%n%-34s %12s%n%-34s %12d%n%-34s %12.0f%n%-34s %12.0f%n%-34s %12.0f%n%-34s %12.0f%n"
              + "%-34s %12d%n%-34s %12d%n%-34s %12.0f%n%-34s %12.2f%n%n",
          "runner",
          service.runner,
          "subscribers",
          n,
          "publish -> first row (ms)",
          t.firstRowMillis,
          "publish -> last row (ms)",
          t.lastRowMillis,
          "publish -> first message (ms)",
          t.firstMessageMillis,
          "publish -> last message (ms)",
          t.lastMessageMillis,
          "rows/s into PostgreSQL",
          r.get("rows_per_s"),
          "messages/s into Kafka",
          r.get("messages_per_s"),
          "sink floor, both at once (ms)",
          floorMillis,
          "pipeline / floor",
          r.get("ratio_to_floor"));
      return r;
    }
  }

  /** COPY n rows into a copy of the feedback table while producing n messages: the floor. */
  double floor(int n) throws Exception {
    try (Connection c = db.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE public.floor_feedback (LIKE public.subscribers_feedback INCLUDING ALL)");
    }
    kafka.createTopics(1, "floor");
    Campaign campaign =
        new Campaign(
            RESTAURANT,
            "floor",
            "first campaign",
            "Ivanov Ivan Ivanovich",
            "iiivanov@restaurant.ru",
            1659203516L,
            2659207116L,
            1659131516L);
    long trigger = Instant.now().getEpochSecond();
    long started = System.nanoTime();
    CompletableFuture<Void> copy =
        CompletableFuture.runAsync(
            () -> {
              try (Connection c = db.getConnection()) {
                StringBuilder rows = new StringBuilder(n * 200);
                for (int i = 0; i < n; i++) {
                  rows.append(RESTAURANT)
                      .append("\tfloor\tfirst campaign\tIvanov Ivan Ivanovich\t")
                      .append("iiivanov@restaurant.ru\t1659203516\t2659207116\t1659131516\tclient-")
                      .append(i)
                      .append('\t')
                      .append(trigger)
                      .append("\t\\N\n");
                }
                c.unwrap(PGConnection.class)
                    .getCopyAPI()
                    .copyIn(
                        "COPY public.floor_feedback (restaurant_id, adv_campaign_id,"
                            + " adv_campaign_content, adv_campaign_owner,"
                            + " adv_campaign_owner_contact, adv_campaign_datetime_start,"
                            + " adv_campaign_datetime_end, datetime_created, client_id,"
                            + " trigger_datetime_created, feedback) FROM STDIN",
                        new StringReader(rows.toString()));
              } catch (SQLException | IOException e) {
                throw new IllegalStateException("COPY failed", e);
              }
            });
    CompletableFuture<Void> produce =
        CompletableFuture.runAsync(
            () -> {
              try (KafkaProducer<String, String> producer = producer()) {
                List<Future<?>> acks = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                  Notification note = new Notification(campaign, "client-" + i, trigger);
                  acks.add(
                      producer.send(
                          new ProducerRecord<>(
                              "floor", note.key(), NotificationJson.toJson(note))));
                }
                for (Future<?> ack : acks) {
                  ack.get();
                }
              } catch (Exception e) {
                throw new IllegalStateException("producing failed", e);
              }
            });
    CompletableFuture.allOf(copy, produce).get();
    return (System.nanoTime() - started) / 1e6;
  }

  /** The service's own producer settings, so the floor is the same Kafka work. */
  KafkaProducer<String, String> producer() {
    Map<String, Object> config = new HashMap<>(DeliverNotifications.producerConfig());
    config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    return new KafkaProducer<>(config, new StringSerializer(), new StringSerializer());
  }

  // ---------------------------------------------------------------- latency

  Map<String, Object> latency(List<String> serviceArgs) throws Exception {
    int campaigns = 30;
    int each = 1_000;
    for (int i = 0; i < campaigns; i++) {
      subscribers("latency-" + i, each);
    }
    List<Double> rows = new ArrayList<>();
    List<Double> messages = new ArrayList<>();
    try (Service service = Service.start(this, serviceArgs, "latency")) {
      for (int i = 0; i < campaigns; i++) {
        Timing t =
            service.deliver("latency-c" + i, "latency-" + i, each, Instant.now().getEpochSecond());
        rows.add(t.lastRowMillis);
        messages.add(t.lastMessageMillis);
      }
      Map<String, Object> r = new java.util.LinkedHashMap<>();
      r.put("runner", service.runner);
      r.put("campaigns", campaigns);
      r.put("subscribers_each", each);
      r.put("last_row_p50_ms", percentile(rows, 50));
      r.put("last_row_p99_ms", percentile(rows, 99));
      r.put("last_message_p50_ms", percentile(messages, 50));
      r.put("last_message_p99_ms", percentile(messages, 99));
      System.out.printf(
          Locale.ROOT,
          "%n%-36s %10s%n%-36s %10.0f%n%-36s %10.0f%n%-36s %10.0f%n%-36s %10.0f%n%n",
          "runner",
          service.runner,
          "publish -> last row, p50 (ms)",
          r.get("last_row_p50_ms"),
          "publish -> last row, p99 (ms)",
          r.get("last_row_p99_ms"),
          "publish -> last message, p50 (ms)",
          r.get("last_message_p50_ms"),
          "publish -> last message, p99 (ms)",
          r.get("last_message_p99_ms"));
      return r;
    }
  }

  static double percentile(List<Double> values, int p) {
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  // ---------------------------------------------------------------- snapshot scale

  Map<String, Object> scale(int n, List<String> serviceArgs) throws Exception {
    try (Connection c = db.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
              + " SELECT 'client-' || g, 'restaurant-' || (g % 10000) FROM generate_series(1, "
              + n
              + ") g");
      s.execute("ANALYZE public.subscribers_restaurants");
    }
    long heapBefore = usedHeapAfterGc();
    long started = System.nanoTime();
    SubscriberSnapshot snapshot = SubscriberTable.read(db);
    double loadMillis = (System.nanoTime() - started) / 1e6;
    long heapWith = usedHeapAfterGc();
    started = System.nanoTime();
    SubscriberSnapshot again = SubscriberTable.read(db);
    double refreshMillis = (System.nanoTime() - started) / 1e6;
    Map<String, Object> r = new java.util.LinkedHashMap<>();
    r.put("rows", n);
    r.put("restaurants", snapshot.restaurantCount());
    r.put("snapshot_load_ms", Math.round(loadMillis));
    r.put("refresh_ms", Math.round(refreshMillis));
    r.put("snapshot_heap_mb", Math.round((heapWith - heapBefore) / 1048576.0));
    r.put("max_heap_mb", Runtime.getRuntime().maxMemory() / 1048576);
    System.out.printf(
        Locale.ROOT,
        "%n%-28s %10d%n%-28s %10d%n%-28s %10.0f%n%-28s %10.0f%n%-28s %10d%n%n",
        "subscription rows",
        n,
        "restaurants",
        snapshot.restaurantCount(),
        "snapshot load (ms)",
        loadMillis,
        "refresh (ms)",
        refreshMillis,
        "snapshot heap (MiB)",
        r.get("snapshot_heap_mb"));
    if (again.subscriptionCount() != snapshot.subscriptionCount()) {
      throw new IllegalStateException("the refresh read a different table");
    }
    snapshot = null;
    again = null;
    fanOutDuringRefreshes(n, serviceArgs, refreshMillis, r);
    return r;
  }

  /**
   * Does a refresh stall fan-out? The service runs on the whole table, re-read every two load times
   * so that a refresh is nearly always under way, while campaigns to one restaurant's subscribers
   * (n / 10,000 each) are published one after another for three refresh periods.
   */
  private void fanOutDuringRefreshes(
      int n, List<String> serviceArgs, double refreshMillis, Map<String, Object> r)
      throws Exception {
    long refreshSeconds = Math.max(2, Math.round(refreshMillis / 1000.0 * 2));
    List<String> args = new ArrayList<>(serviceArgs);
    args.add("--subscribersRefresh=" + refreshSeconds + "s");
    List<Double> rows = new ArrayList<>();
    try (Service service = Service.start(this, args, "scale")) {
      long until = System.nanoTime() + Duration.ofSeconds(refreshSeconds * 3).toNanos();
      for (int i = 0; System.nanoTime() < until; i++) {
        Timing t =
            service.deliver(
                "scale-c" + i,
                "restaurant-" + (i % 10_000),
                n / 10_000,
                Instant.now().getEpochSecond());
        rows.add(t.lastRowMillis);
      }
    }
    System.out.println(
        "publish -> last row of each campaign, in order (ms): "
            + rows.stream()
                .map(m -> Long.toString(Math.round(m)))
                .collect(Collectors.joining(" ")));
    r.put("refresh_every_s", refreshSeconds);
    r.put("campaigns_during_refreshes", rows.size());
    r.put("during_refreshes_last_row_p50_ms", Math.round(percentile(rows, 50)));
    r.put("during_refreshes_last_row_p99_ms", Math.round(percentile(rows, 99)));
    r.put(
        "during_refreshes_last_row_max_ms",
        Math.round(rows.stream().mapToDouble(Double::doubleValue).max().orElse(0)));
    System.out.printf(
        Locale.ROOT,
        "%-40s %10d%n%-40s %10d%n%-40s %10d%n%-40s %10d%n%n",
        "campaigns while refreshing every " + refreshSeconds + " s",
        rows.size(),
        "  publish -> last row, p50 (ms)",
        r.get("during_refreshes_last_row_p50_ms"),
        "  publish -> last row, p99 (ms)",
        r.get("during_refreshes_last_row_p99_ms"),
        "  publish -> last row, max (ms)",
        r.get("during_refreshes_last_row_max_ms"));
  }

  private static long usedHeapAfterGc() {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return rt.totalMemory() - rt.freeMemory();
  }

  // ---------------------------------------------------------------- data

  void subscribers(String restaurant, int count) throws SQLException {
    try (Connection c = db.getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
                    + " SELECT 'client-' || g, ? FROM generate_series(1, ?) g")) {
      s.setString(1, restaurant);
      s.setInt(2, count);
      s.execute();
    }
  }

  /** Other restaurants' subscribers, so the snapshot is not one restaurant only. */
  void noise(int count) throws SQLException {
    try (Connection c = db.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
              + " SELECT 'other-' || g, 'noise-' || (g % 100) FROM generate_series(1, "
              + Math.max(count, 100)
              + ") g");
    }
  }

  /**
   * Rows inserted into the feedback table so far, any campaign, read from its id sequence: O(1),
   * where a count(*) of a million rows every 100 ms would take a core from the pipeline it
   * measures. Every inserted row draws an id (a row skipped by ON CONFLICT draws one too), so this
   * is an upper bound; {@link #rows} confirms.
   */
  long idsDrawn() throws SQLException {
    try (Connection c = db.getConnection();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery(
                "SELECT CASE WHEN is_called THEN last_value ELSE 0 END"
                    + " FROM public.subscribers_feedback_id_seq")) {
      r.next();
      return r.getLong(1);
    }
  }

  long rows(String campaign) throws SQLException {
    try (Connection c = db.getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT count(*) FROM public.subscribers_feedback WHERE adv_campaign_id = ?")) {
      s.setString(1, campaign);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getLong(1);
      }
    }
  }

  static String toJson(Map<String, Object> values) {
    StringBuilder json = new StringBuilder("{");
    values.forEach(
        (k, v) -> {
          if (json.length() > 1) {
            json.append(',');
          }
          json.append('"').append(k).append("\":");
          json.append(v instanceof String ? "\"" + v + "\"" : String.valueOf(v));
        });
    return json.append('}').toString();
  }

  /** Publish to first/last row and message, in milliseconds. */
  record Timing(
      double firstRowMillis,
      double lastRowMillis,
      double firstMessageMillis,
      double lastMessageMillis) {}

  /** The service under test, running in this JVM, and a watcher of its output topic. */
  static final class Service implements AutoCloseable {
    final Benchmark bench;
    final CampaignNotifierOptions options;
    final PipelineResult result;
    final String runner;
    final KafkaConsumer<String, String> watcher;

    private Service(Benchmark bench, CampaignNotifierOptions options, PipelineResult result) {
      this.bench = bench;
      this.options = options;
      this.result = result;
      this.runner = options.getRunner().getSimpleName();
      this.watcher =
          new KafkaConsumer<>(
              Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bench.kafka.bootstrapServers()),
              new StringDeserializer(),
              new StringDeserializer());
      TopicPartition out = new TopicPartition(options.getOutputTopic(), 0);
      watcher.assign(List.of(out));
      watcher.seekToEnd(List.of(out));
      watcher.position(out);
    }

    static Service start(Benchmark bench, List<String> serviceArgs, String name) throws Exception {
      List<String> args = new ArrayList<>(serviceArgs);
      args.add("--bootstrapServers=" + bench.kafka.bootstrapServers());
      args.add("--jdbcUrl=" + bench.url);
      args.add("--jdbcUser=" + EmbeddedPostgresServer.USER);
      args.add("--inputTopic=" + name + "-in");
      args.add("--outputTopic=" + name + "-out");
      args.add("--deadLetterTopic=" + name + "-dlq");
      args.add("--consumerGroup=" + name);
      if (args.stream().noneMatch(a -> a.startsWith("--runner="))
          || args.contains("--runner=DirectRunner")) {
        args.add("--blockOnRun=false");
      }
      bench.kafka.createTopics(1, name + "-in", name + "-out", name + "-dlq");
      // Before the start, so that the first snapshot already has it.
      bench.subscribers("warm-up", 1);
      PipelineOptionsFactory.register(CampaignNotifierOptions.class);
      CampaignNotifierOptions options =
          PipelineOptionsFactory.fromArgs(args.toArray(String[]::new))
              .withValidation()
              .as(CampaignNotifierOptions.class);
      Service service = new Service(bench, options, CampaignNotifier.run(options));
      // Ready means a campaign goes all the way through: the snapshot is loaded, every stage runs.
      service.deliver("warm-up", "warm-up", 1, Instant.now().getEpochSecond());
      return service;
    }

    Timing deliver(String campaign, String restaurant, int n, long now) throws Exception {
      AtomicLong firstMessage = new AtomicLong();
      AtomicLong lastMessage = new AtomicLong();
      AtomicBoolean done = new AtomicBoolean();
      String prefix = campaign + ":";
      long published;
      long idsBefore = bench.idsDrawn();
      long idsDrawn = idsBefore;
      try (KafkaProducer<String, String> producer = bench.producer()) {
        published = System.nanoTime();
        producer
            .send(
                new ProducerRecord<>(
                    options.getInputTopic(),
                    "k",
                    campaignJson(campaign, restaurant, now - 10, now + 3600)))
            .get();
      }
      CompletableFuture<Void> messages =
          CompletableFuture.runAsync(
              () -> {
                long seen = 0;
                long deadline = System.nanoTime() + Duration.ofMinutes(DEADLINE_MINUTES).toNanos();
                while (seen < n && System.nanoTime() < deadline) {
                  for (ConsumerRecord<String, String> r : watcher.poll(Duration.ofMillis(20))) {
                    if (r.key() != null && r.key().startsWith(prefix)) {
                      if (seen++ == 0) {
                        firstMessage.set(System.nanoTime());
                      }
                      lastMessage.set(System.nanoTime());
                    }
                  }
                }
                done.set(seen >= n);
              });
      long firstRow = 0;
      long lastRow = 0;
      long deadline = System.nanoTime() + Duration.ofMinutes(DEADLINE_MINUTES).toNanos();
      // Cheap progress from the id sequence; the exact count only once the ids say it may be done.
      while (System.nanoTime() < deadline) {
        long drawn = idsDrawn - idsBefore;
        if (firstRow == 0 && drawn > 0 && bench.rows(campaign) > 0) {
          firstRow = System.nanoTime();
        }
        if (drawn >= n && bench.rows(campaign) >= n) {
          lastRow = System.nanoTime();
          break;
        }
        Thread.sleep(5);
        idsDrawn = bench.idsDrawn();
      }
      messages.get();
      if (lastRow == 0 || !done.get()) {
        throw new IllegalStateException("campaign " + campaign + " was not delivered in time");
      }
      return new Timing(
          (firstRow - published) / 1e6,
          (lastRow - published) / 1e6,
          (firstMessage.get() - published) / 1e6,
          (lastMessage.get() - published) / 1e6);
    }

    @Override
    public void close() throws IOException {
      watcher.close();
      try {
        result.cancel();
      } catch (RuntimeException e) {
        // Spark's streaming context can throw while it stops (an interrupted source split); the
        // figures are already taken.
        System.err.println("benchmark: the service did not stop cleanly: " + e);
      }
    }
  }

  static String campaignJson(String id, String restaurant, long start, long end) {
    return String.format(
        Locale.ROOT,
        "{\"restaurant_id\":\"%s\",\"adv_campaign_id\":\"%s\",\"adv_campaign_content\":\"first"
            + " campaign\",\"adv_campaign_owner\":\"Ivanov Ivan Ivanovich\","
            + "\"adv_campaign_owner_contact\":\"iiivanov@restaurant.ru\","
            + "\"adv_campaign_datetime_start\":%d,\"adv_campaign_datetime_end\":%d,"
            + "\"datetime_created\":%d}",
        restaurant,
        id,
        start,
        end,
        start);
  }
}
