package dev.campaignnotifier.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.campaignnotifier.bench.ServiceUnderTest.Timing;
import dev.campaignnotifier.subscribers.SubscriberSnapshot;
import dev.campaignnotifier.subscribers.SubscriberTable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Measures the service against real servers (a broker in its own JVM, a PostgreSQL with stock
 * durability; or any given with the service's connection options), with the service in a process of
 * its own started by its launcher. Modes:
 *
 * <ul>
 *   <li>{@code fanout}: one campaign per size in {@code --subscribers} (default 10,000, 200,000 and
 *       1,000,000); publish to first and last row and message, the service's CPU seconds per
 *       100,000 notifications; then, with the service stopped, the floor of each size ({@link
 *       Floor}) and pipeline / floor.
 *   <li>{@code latency}: 30 campaigns of 1,000 subscribers one after another, then the same size
 *       published one after another while campaigns of {@code --subscribers} (default 1,000,000)
 *       are being delivered: p50 / p99 to the last row and message of each.
 *   <li>{@code idle}: the service's CPU use while it waits, after warming up and settling.
 *   <li>{@code scale}: for each size in {@code --subscribers} (default 1,000,000 and 10,000,000), a
 *       table of that many rows in restaurants of 1,000 plus one restaurant of {@code
 *       --bigSubscribers} (default 1,000,000); for each mode in {@code --subscriberModes} (default
 *       snapshot,lookup): heap of the snapshot, start to ready, the service's heap after a full
 *       collection once ready, 20 campaigns of 1,000 then the big one (publish to last row), rows
 *       PostgreSQL read for them and full-table scans (from {@code pg_stat_user_tables}); on Flink,
 *       the checkpoints of the run (count, failures, largest, p50 and slowest duration).
 *   <li>{@code restart}: 10,000 campaigns of 10 to 100,000 subscribers and one of 1,000,000 ({@code
 *       --restartCampaigns}, {@code --bigSubscribers}) delivered, three more cut short by a
 *       SIGKILL; then the service started again, with the delivery ledger and with it emptied:
 *       start to a new campaign delivered, and rows read from the feedback table and the ledger.
 * </ul>
 *
 * <p>Its own options: {@code --mode}, {@code --subscribers} (sizes), {@code --subscriberMode} (the
 * service's {@code --subscribers}), {@code --subscriberModes}, {@code --runner=DirectRunner|
 * FlinkRunner|SparkRunner}, {@code --launch=script|classpath}, {@code --settleSeconds} and {@code
 * --idleSeconds}; the service's connection options select given servers; anything else goes to the
 * service. Prints a table and one line starting {@code BENCHMARK } with the figures as JSON.
 */
public final class Benchmark {
  private static final Set<String> OWN =
      Set.of(
          "mode",
          "subscribers",
          "subscriberModes",
          "subscriberMode",
          "bigSubscribers",
          "restartCampaigns",
          "runner",
          "launch",
          "idleSeconds",
          "settleSeconds");
  private static final Set<String> SERVERS =
      Set.of(
          "bootstrapServers",
          "jdbcUrl",
          "jdbcUser",
          "jdbcPasswordEnv",
          "jdbcPasswordFile",
          "kafkaPropertiesFile");

  private final BenchServers servers;
  private final String runner;
  private final String launch;
  private final List<String> serviceArgs;

  private Benchmark(BenchServers servers, String runner, String launch, List<String> serviceArgs) {
    this.servers = servers;
    this.runner = runner;
    this.launch = launch;
    this.serviceArgs = serviceArgs;
  }

  public static void main(String[] args) {
    int status = 0;
    try {
      System.out.println("BENCHMARK " + new ObjectMapper().writeValueAsString(run(args)));
    } catch (Exception e) {
      e.printStackTrace();
      status = 1;
    }
    System.exit(status);
  }

  /** Runs one benchmark and returns its figures. */
  public static Map<String, Object> run(String[] args) throws Exception {
    Map<String, String> own = new HashMap<>();
    Map<String, String> given = new HashMap<>();
    List<String> service = new ArrayList<>();
    for (String arg : args) {
      String[] kv = arg.startsWith("--") ? arg.substring(2).split("=", 2) : new String[] {arg};
      if (kv.length == 2 && OWN.contains(kv[0])) {
        own.put(kv[0], kv[1]);
      } else if (kv.length == 2 && SERVERS.contains(kv[0])) {
        given.put(kv[0], kv[1]);
      } else {
        service.add(arg);
      }
    }
    if (own.containsKey("subscriberMode")) {
      service.add("--subscribers=" + own.get("subscriberMode"));
    }
    String mode = own.getOrDefault("mode", "fanout");
    String runner = own.getOrDefault("runner", "DirectRunner");
    String launch = own.getOrDefault("launch", "script");
    try (BenchServers servers = BenchServers.start(given)) {
      Benchmark bench = new Benchmark(servers, runner, launch, service);
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("mode", mode);
      result.put("runner", runner);
      result.put("cores", Runtime.getRuntime().availableProcessors());
      result.putAll(servers.durability());
      switch (mode) {
        case "fanout" ->
            bench.fanout(sizes(own.getOrDefault("subscribers", "10000,200000,1000000")), result);
        case "latency" ->
            bench.latency(sizes(own.getOrDefault("subscribers", "1000000")).get(0), result);
        case "idle" ->
            bench.idle(
                Integer.parseInt(own.getOrDefault("settleSeconds", "240")),
                Integer.parseInt(own.getOrDefault("idleSeconds", "60")),
                result);
        case "scale" ->
            bench.scale(
                sizes(own.getOrDefault("subscribers", "1000000,10000000")),
                Arrays.asList(own.getOrDefault("subscriberModes", "snapshot,lookup").split(",")),
                sizes(own.getOrDefault("bigSubscribers", "1000000")).get(0),
                result);
        case "restart" ->
            bench.restart(
                Integer.parseInt(own.getOrDefault("restartCampaigns", "10000")),
                sizes(own.getOrDefault("bigSubscribers", "1000000")).get(0),
                result);
        default ->
            throw new IllegalArgumentException(
                "--mode must be fanout, latency, idle, scale or restart");
      }
      return result;
    }
  }

  private static List<Integer> sizes(String list) {
    return Arrays.stream(list.split(","))
        .map(s -> Integer.parseInt(s.trim().replace("_", "")))
        .collect(Collectors.toList());
  }

  private ServiceUnderTest startService(String name, String... extra) throws Exception {
    List<String> args = new ArrayList<>(serviceArgs);
    args.addAll(List.of(extra));
    return ServiceUnderTest.start(servers, runner, launch, args, name);
  }

  // ---------------------------------------------------------------- fan-out against the floor

  void fanout(List<Integer> sizes, Map<String, Object> result) throws Exception {
    for (int n : sizes) {
      servers.subscribers("restaurant-" + n, n);
    }
    // Other restaurants' subscribers, so the snapshot is not one restaurant only.
    servers.update(
        "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
            + " SELECT 'other-' || g, 'noise-' || (g % 100) FROM generate_series(1, 100000) g");
    servers.update("ANALYZE public.subscribers_restaurants");
    List<Map<String, Object>> runs = new ArrayList<>();
    try (ServiceUnderTest service = startService("fanout")) {
      for (int n : sizes) {
        servers.truncateFeedback();
        double cpuBefore = service.cpuSeconds();
        Timing t = service.deliver("campaign-" + n, "restaurant-" + n, n);
        double cpu = service.cpuSeconds() - cpuBefore;
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("subscribers", n);
        r.put("publish_to_first_row_ms", Math.round(t.firstRowMillis()));
        r.put("publish_to_last_row_ms", Math.round(t.lastRowMillis()));
        r.put("publish_to_first_message_ms", Math.round(t.firstMessageMillis()));
        r.put("publish_to_last_message_ms", Math.round(t.lastMessageMillis()));
        r.put("pipeline_ms", Math.round(t.bothMillis()));
        r.put("cpu_s_per_100k", round2(cpu / (n / 100_000.0)));
        runs.add(r);
      }
    }
    // Right after the pipeline's run, with the service stopped: the floor of each size.
    for (Map<String, Object> r : runs) {
      int n = (Integer) r.get("subscribers");
      servers.truncateFeedback();
      double floor = Floor.measure(servers, "floor-" + n, "restaurant-" + n, n, "floor-" + n);
      r.put("floor_ms", Math.round(floor));
      r.put("ratio_to_floor", round2(((Long) r.get("pipeline_ms")) / floor));
    }
    result.put("runs", runs);
    System.out.printf(
        Locale.ROOT,
        "%n%-14s %10s %10s %10s %10s %10s %8s %12s%n",
        runner,
        "subscribers",
        "last row",
        "last msg",
        "floor",
        "ratio",
        "CPU s",
        "");
    for (Map<String, Object> r : runs) {
      System.out.printf(
          Locale.ROOT,
          "%-14s %10d %8d ms %8d ms %8d ms %10.2f %8.2f per 100k%n",
          "",
          r.get("subscribers"),
          r.get("publish_to_last_row_ms"),
          r.get("publish_to_last_message_ms"),
          r.get("floor_ms"),
          r.get("ratio_to_floor"),
          r.get("cpu_s_per_100k"));
    }
  }

  // ---------------------------------------------------------------- latency

  void latency(int big, Map<String, Object> result) throws Exception {
    int campaigns = 30;
    int each = 1_000;
    for (int i = 0; i < campaigns; i++) {
      servers.subscribers("latency-" + i, each);
    }
    servers.subscribers("big", big);
    servers.update("ANALYZE public.subscribers_restaurants");
    List<Timing> alone = new ArrayList<>();
    List<Timing> behindBig = new ArrayList<>();
    try (ServiceUnderTest service = startService("latency")) {
      for (int i = 0; i < campaigns; i++) {
        alone.add(service.deliver("alone-" + i, "latency-" + i, each));
      }
      // Head-of-line: small campaigns one after another while a big one is being delivered.
      for (int b = 0; b < 3 && behindBig.size() < campaigns; b++) {
        String bigCampaign = "big-" + b;
        service.publish(bigCampaign, "big");
        for (int i = 0; servers.rows(bigCampaign) < big; i++) {
          behindBig.add(
              service.deliver("behind-" + b + "-" + i, "latency-" + (i % campaigns), each));
        }
      }
    }
    put(result, "alone", alone);
    put(result, "during_big", behindBig);
    result.put("big_subscribers", big);
    System.out.printf(
        Locale.ROOT,
        "%n%-44s %8s %8s %8s %8s%n",
        runner + ", 1,000 subscribers each",
        "row p50",
        "row p99",
        "msg p50",
        "msg p99");
    for (String key : List.of("alone", "during_big")) {
      System.out.printf(
          Locale.ROOT,
          "%-44s %5d ms %5d ms %5d ms %5d ms%n",
          key.equals("alone")
              ? campaigns + " one after another"
              : behindBig.size() + " while " + big + " are delivered",
          result.get(key + "_last_row_p50_ms"),
          result.get(key + "_last_row_p99_ms"),
          result.get(key + "_last_message_p50_ms"),
          result.get(key + "_last_message_p99_ms"));
    }
  }

  private static void put(Map<String, Object> result, String key, List<Timing> timings) {
    List<Double> rows = timings.stream().map(Timing::lastRowMillis).toList();
    List<Double> messages = timings.stream().map(Timing::lastMessageMillis).toList();
    result.put(key + "_campaigns", timings.size());
    result.put(key + "_last_row_p50_ms", Math.round(percentile(rows, 50)));
    result.put(key + "_last_row_p99_ms", Math.round(percentile(rows, 99)));
    result.put(key + "_last_message_p50_ms", Math.round(percentile(messages, 50)));
    result.put(key + "_last_message_p99_ms", Math.round(percentile(messages, 99)));
  }

  static double percentile(List<Double> values, int p) {
    double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  // ---------------------------------------------------------------- idle

  void idle(int settle, int seconds, Map<String, Object> result) throws Exception {
    try (ServiceUnderTest service = startService("idle")) {
      // Settle first: the JIT compiler is still busy for minutes after the start.
      Thread.sleep(settle * 1000L);
      double before = service.cpuSeconds();
      long started = System.nanoTime();
      Thread.sleep(seconds * 1000L);
      double cores = (service.cpuSeconds() - before) / ((System.nanoTime() - started) / 1e9);
      result.put("settle_seconds", settle);
      result.put("idle_seconds", seconds);
      result.put("idle_percent_of_a_core", round2(cores * 100));
      System.out.printf(
          Locale.ROOT,
          "%n%s idle: %.2f%% of one core over %d s (after %d s to settle)%n",
          runner,
          cores * 100,
          seconds,
          settle);
    }
  }

  // ---------------------------------------------------------------- restart

  /**
   * Campaigns of the restart mode: {count, subscribers} per restaurant size. 10,000 campaigns of 10
   * to 100,000 subscribers and one of 1,000,000: 2,359,900 notifications.
   */
  static final int[][] RESTART_CAMPAIGNS = {
    {8_990, 10}, {900, 100}, {90, 1_000}, {9, 10_000}, {10, 100_000}, {1, 1_000_000}
  };

  /** Campaigns cut short by the crash: the "few" not fully delivered, of 10,000 each. */
  static final int CUT_SHORT = 3;

  static final int CUT_SIZE = 10_000;

  /**
   * A restart in the middle of a day's work. The service delivers 10,000 campaigns in full, then
   * three more of 10,000 are published and it is killed (SIGKILL) while they are delivered. It is
   * started again twice on the same topics and group, each time with every one of those campaigns
   * still active inside the replay window, and a new campaign published at once: first with the
   * delivery ledger as the crash left it, then, for comparison, with the ledger emptied (what a
   * replay cost before the ledger: every campaign's feedback rows read). For each: start to the new
   * campaign delivered, and rows PostgreSQL read from the feedback table and the ledger.
   */
  void restart(int total, int big, Map<String, Object> result) throws Exception {
    String name = "restart";
    List<String[]> campaigns = new ArrayList<>();
    long delivered = 0;
    for (int[] group : RESTART_CAMPAIGNS) {
      boolean isBig = group[1] == 1_000_000;
      int size = isBig ? big : group[1];
      String restaurant = "restart-" + (isBig ? "big" : size);
      servers.subscribers(restaurant, size);
      // --restartCampaigns scales the counts down (the small run in CI), keeping every size.
      int count = isBig ? 1 : Math.max(1, (int) ((long) group[0] * total / 10_000));
      for (int i = 0; i < count; i++) {
        campaigns.add(new String[] {"c" + group[1] + "-" + i, restaurant});
        delivered += size;
      }
    }
    servers.update("VACUUM ANALYZE public.subscribers_restaurants");
    long expected = delivered;
    long started = System.nanoTime();
    try (ServiceUnderTest service = startService(name)) {
      service.publishAll(campaigns);
      awaitFeedbackRows(expected + ServiceUnderTest.WARM_UP);
      result.put("first_delivery_s", Math.round((System.nanoTime() - started) / 1e9));
      List<String[]> cut = new ArrayList<>();
      for (int i = 0; i < CUT_SHORT; i++) {
        cut.add(new String[] {"cut-" + i, "restart-" + CUT_SIZE});
      }
      long idsBefore = servers.idsDrawn();
      service.publishAll(cut);
      // Killed about half way through them: the ids drawn (a sequence, cheap to poll this often).
      while (servers.idsDrawn() - idsBefore < CUT_SHORT * CUT_SIZE / 2) {
        Thread.sleep(2);
      }
      service.kill();
    }
    long cutRows = 0;
    for (int i = 0; i < CUT_SHORT; i++) {
      cutRows += servers.rows("cut-" + i);
    }
    result.put("cut_short_rows_at_the_crash", cutRows);
    long atKill = servers.query("SELECT count(*) FROM public.subscribers_feedback");
    result.put("campaigns", campaigns.size() + CUT_SHORT);
    result.put("rows_delivered_before_the_crash", atKill);
    List<Map<String, Object>> runs = new ArrayList<>();
    runs.add(restartRun(name, "with the ledger", 2));
    servers.update("TRUNCATE public.campaign_slices");
    runs.add(restartRun(name, "ledger emptied (as before it)", 3));
    result.put("runs", runs);
    System.out.printf(
        Locale.ROOT,
        "%n%s restart with %d campaigns in the window, %d feedback rows at the crash%n%-32s %14s"
            + " %20s %14s%n",
        runner,
        campaigns.size() + CUT_SHORT,
        atKill,
        "",
        "to new campaign",
        "rows read from pg",
        "of delivered");
    for (Map<String, Object> r : runs) {
      System.out.printf(
          Locale.ROOT,
          "%-32s %11d ms %20d %13.2f%%%n",
          r.get("ledger"),
          r.get("start_to_new_campaign_ms"),
          r.get("rows_read_from_postgres"),
          r.get("percent_of_delivered"));
    }
  }

  private Map<String, Object> restartRun(String name, String ledger, int attempt) throws Exception {
    long delivered = servers.query("SELECT count(*) FROM public.subscribers_feedback");
    Thread.sleep(12_000); // so that this count's own reads are in the statistics before the start
    long rowsBefore = rowsRead("subscribers_feedback,campaign_slices");
    long started = System.nanoTime();
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("ledger", ledger);
    try (ServiceUnderTest service =
        ServiceUnderTest.restart(
            servers, runner, launch, serviceArgs, name, "new-after-restart-" + attempt)) {
      r.put("start_to_new_campaign_ms", Math.round((System.nanoTime() - started) / 1e6));
      // Until the replay has completed the campaigns the crash cut short: the ids it draws (a
      // sequence, so the tables' read statistics stay the service's own) stop moving.
      long drawn = -1;
      while (drawn != servers.idsDrawn()) {
        drawn = servers.idsDrawn();
        Thread.sleep(5_000);
      }
      Thread.sleep(12_000); // PostgreSQL publishes a connection's statistics once it is idle
    }
    long rows = rowsRead("subscribers_feedback,campaign_slices") - rowsBefore;
    for (int i = 0; i < CUT_SHORT; i++) {
      awaitRows("cut-" + i, CUT_SIZE); // after the statistics: this count reads the table too
    }
    r.put("rows_read_from_postgres", rows);
    r.put("percent_of_delivered", round2(100.0 * rows / delivered));
    System.out.printf(Locale.ROOT, "%nrestart %s%n", r);
    return r;
  }

  // ---------------------------------------------------------------- subscribers at scale

  static final int SMALL = 1_000;

  /**
   * For each size: a table of {@code n} rows in restaurants of 1,000 subscribers plus one of {@code
   * big}; then, per mode, the service started on it, 20 campaigns of 1,000 one after another, then
   * the big one; rows PostgreSQL read for it (its own statistics) and full-table scans.
   */
  void scale(List<Integer> sizes, List<String> modes, int big, Map<String, Object> result)
      throws Exception {
    List<Map<String, Object>> runs = new ArrayList<>();
    for (int n : sizes) {
      fillScaleTable(n, big);
      long heapBefore = usedHeapAfterGc();
      long started = System.nanoTime();
      SubscriberSnapshot snapshot = SubscriberTable.read(servers.db);
      double loadMillis = (System.nanoTime() - started) / 1e6;
      long snapshotBytes = usedHeapAfterGc() - heapBefore;
      long rows = snapshot.sourceRows();
      snapshot = null;
      for (String mode : modes) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("subscriber_mode", mode);
        r.put("rows", rows);
        r.put(
            "subscriber_heap_mb",
            mode.equals("snapshot") ? Math.round(snapshotBytes / 1048576.0) : 0);
        r.put("snapshot_load_ms", mode.equals("snapshot") ? Math.round(loadMillis) : 0);
        scaleRun(mode, n, big, r);
        runs.add(r);
        System.out.printf(Locale.ROOT, "%nscale %s%n", r);
      }
    }
    result.put("runs", runs);
    System.out.printf(
        Locale.ROOT,
        "%n%-9s %11s %9s %9s %9s %13s %13s %13s %13s %15s %10s%n",
        "mode",
        "rows",
        "snap MiB",
        "heap MiB",
        "ready ms",
        "1k p50 ms",
        "1k p99 ms",
        "1M first ms",
        "1M last ms",
        "rows read",
        "seq scans");
    for (Map<String, Object> r : runs) {
      System.out.printf(
          Locale.ROOT,
          "%-9s %11d %9d %9d %9d %13d %13d %13d %13d %15d %10d%n",
          r.get("subscriber_mode"),
          r.get("rows"),
          r.get("subscriber_heap_mb"),
          r.get("service_heap_mb"),
          r.get("start_to_ready_ms"),
          r.get("small_last_row_p50_ms"),
          r.get("small_last_row_p99_ms"),
          r.get("big_first_row_ms"),
          r.get("big_last_row_ms"),
          r.get("rows_read_from_postgres"),
          r.get("full_table_scans"));
    }
    if (runner.equals("FlinkRunner")) {
      System.out.printf(
          Locale.ROOT,
          "%n%-9s %11s %12s %9s %12s %12s %12s%n",
          "mode",
          "rows",
          "checkpoints",
          "failed",
          "largest MiB",
          "p50 ms",
          "slowest ms");
      for (Map<String, Object> r : runs) {
        System.out.printf(
            Locale.ROOT,
            "%-9s %11d %12d %9d %12.2f %12d %12d%n",
            r.get("subscriber_mode"),
            r.get("rows"),
            r.get("checkpoints_completed"),
            r.get("checkpoints_failed"),
            ((Number) r.get("checkpoint_max_mb")).doubleValue(),
            ((Number) r.get("checkpoint_p50_ms")).longValue(),
            ((Number) r.get("checkpoint_max_ms")).longValue());
      }
    }
  }

  /** {@code n} rows in restaurants of 1,000, one restaurant of {@code big}, indexed, vacuumed. */
  private void fillScaleTable(int n, int big) {
    servers.update("TRUNCATE public.subscribers_restaurants");
    servers.update("DROP INDEX IF EXISTS public.subscribers_restaurants_restaurant_client_idx");
    servers.update(
        "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
            + " SELECT 'client-' || g, 'small-' || (g / ?) FROM generate_series(0, ? - 1) g",
        SMALL,
        n);
    servers.subscribers("big", big);
    servers.update(SubscriberTable.LOOKUP_INDEX.replace(" CONCURRENTLY", ""));
    // As autovacuum leaves a table in steady state: statistics, and a visibility map that lets
    // the lookup read the index alone.
    servers.update("VACUUM ANALYZE public.subscribers_restaurants");
  }

  private void scaleRun(String mode, int n, int big, Map<String, Object> r) throws Exception {
    long[] statsBefore = tableReads();
    long started = System.nanoTime();
    try (ServiceUnderTest service =
        startService("scale-" + mode + "-" + n, "--subscribers=" + mode)) {
      r.put("start_to_ready_ms", Math.round((System.nanoTime() - started) / 1e6));
      r.put("service_heap_mb", Math.round(service.heapAfterGcBytes() / 1048576.0));
      List<Double> small = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        small.add(
            service
                .deliver(
                    "small-" + mode + "-" + n + "-" + i, "small-" + (i * 37 % (n / SMALL)), SMALL)
                .lastRowMillis());
      }
      r.put("small_last_row_p50_ms", Math.round(percentile(small, 50)));
      r.put("small_last_row_p99_ms", Math.round(percentile(small, 99)));
      ServiceUnderTest.Timing bigOne = service.deliver("big-" + mode + "-" + n, "big", big);
      r.put("big_subscribers", big);
      r.put("big_first_row_ms", Math.round(bigOne.firstRowMillis()));
      r.put("big_last_row_ms", Math.round(bigOne.bothMillis()));
      r.put("cpu_s", round2(service.cpuSeconds()));
      // PostgreSQL publishes a connection's table statistics when it has been idle a while.
      Thread.sleep(12_000);
      long[] statsAfter = tableReads();
      r.put("rows_read_from_postgres", statsAfter[0] - statsBefore[0]);
      r.put("full_table_scans", statsAfter[1] - statsBefore[1]);
      r.put("elapsed_s", Math.round((System.nanoTime() - started) / 1e9));
      if (runner.equals("FlinkRunner")) {
        r.putAll(checkpoints(service.log()));
      }
    }
  }

  private static final Pattern COMPLETED_CHECKPOINT =
      Pattern.compile(
          "Completed checkpoint \\d+ for job \\S+ \\((\\d+) bytes, checkpointDuration=(\\d+) ms");

  /**
   * Flink's checkpoints in a service's log (the launcher's, every 10 s): how many completed, the
   * largest and the slowest, and how many failed.
   */
  static Map<String, Object> checkpoints(String log) {
    List<Double> bytes = new ArrayList<>();
    List<Double> millis = new ArrayList<>();
    Matcher m = COMPLETED_CHECKPOINT.matcher(log);
    while (m.find()) {
      bytes.add(Double.parseDouble(m.group(1)));
      millis.add(Double.parseDouble(m.group(2)));
    }
    long failed =
        log.lines()
            .filter(l -> l.contains("Failed to trigger") || l.contains("maximum permitted"))
            .count();
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("checkpoints_completed", bytes.size());
    r.put("checkpoints_failed", failed);
    r.put("checkpoint_max_mb", bytes.isEmpty() ? 0 : round2(percentile(bytes, 100) / 1048576));
    r.put("checkpoint_p50_ms", millis.isEmpty() ? 0 : Math.round(percentile(millis, 50)));
    r.put("checkpoint_max_ms", millis.isEmpty() ? 0 : Math.round(percentile(millis, 100)));
    return r;
  }

  private void awaitFeedbackRows(long n) throws InterruptedException {
    awaitCount("SELECT count(*) FROM public.subscribers_feedback", n);
  }

  private void awaitRows(String campaign, long n) throws InterruptedException {
    awaitCount(
        "SELECT count(*) FROM public.subscribers_feedback WHERE adv_campaign_id = '"
            + campaign
            + "'",
        n);
  }

  private void awaitCount(String sql, long n) throws InterruptedException {
    long deadline = System.nanoTime() + 20L * 60 * 1_000_000_000;
    long seen = 0;
    while (System.nanoTime() < deadline) {
      seen = servers.query(sql);
      if (seen >= n) {
        return;
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException(sql + ": " + seen + " of " + n + " after 20 minutes");
  }

  /**
   * Rows PostgreSQL's statistics say were read from the tables so far, by sequential scans and
   * through their indexes.
   */
  private long rowsRead(String tables) {
    return servers.query(
        "SELECT coalesce(sum(t.seq_tup_read), 0) + coalesce((SELECT sum(i.idx_tup_read)"
            + " FROM pg_stat_user_indexes i WHERE i.relname = ANY(string_to_array(?, ','))), 0)"
            + " FROM pg_stat_user_tables t WHERE t.relname = ANY(string_to_array(?, ','))",
        tables,
        tables);
  }

  /** {rows read, sequential scans} of subscribers_restaurants so far. */
  private long[] tableReads() {
    long scans =
        servers.query(
            "SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'subscribers_restaurants'");
    return new long[] {rowsRead("subscribers_restaurants"), scans};
  }

  private static long usedHeapAfterGc() {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return rt.totalMemory() - rt.freeMemory();
  }

  private static double round2(double value) {
    return Math.round(value * 100) / 100.0;
  }
}
