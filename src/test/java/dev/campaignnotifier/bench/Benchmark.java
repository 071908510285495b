package dev.campaignnotifier.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 *       are being delivered: p50 / p99 to the last row and message of each; for each campaign,
 *       publish to its fan-out (the service's log) and whether a PostgreSQL checkpoint ran
 *       meanwhile (the started server's log), the three slowest printed.
 *   <li>{@code rush}: the lunch rush, C campaigns of S subscribers each on C restaurants, all
 *       published at once ({@code --rush}, default {@code 10000x10,2000x500}), against one campaign
 *       of C x S on the same service and the floor of the same rows ({@link RushBench}); with
 *       {@code --peer}, the plain Structured Streaming job of {@code src/test/peer} runs the same
 *       workloads after the service, on the same servers, and both are printed.
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
 * FlinkRunner|SparkRunner}, {@code --launch=script|classpath}, {@code --settleSeconds}, {@code
 * --idleSeconds}, {@code --endedCampaigns}, {@code --briefCampaigns} and {@code --briefSeconds}
 * (idle); the service's connection options select given servers; anything else goes to the service.
 * Prints a table and one line starting {@code BENCHMARK } with the figures as JSON.
 *
 * <p>Each mode is a class of its own ({@link FanOutBench}, {@link LatencyBench}, {@link IdleBench},
 * {@link ScaleBench}, {@link RestartBench}) on what they share ({@link BenchRun}); this class reads
 * the arguments, starts the servers and runs the mode.
 */
public final class Benchmark {
  private static final Set<String> OWN =
      Set.of(
          "mode",
          "repeats",
          "subscribers",
          "subscriberModes",
          "subscriberMode",
          "bigSubscribers",
          "restartCampaigns",
          "runner",
          "launch",
          "idleSeconds",
          "settleSeconds",
          "endedCampaigns",
          "briefCampaigns",
          "briefSeconds",
          "rush",
          "peer");
  private static final Set<String> SERVERS =
      Set.of(
          "bootstrapServers",
          "jdbcUrl",
          "jdbcUser",
          "jdbcPasswordEnv",
          "jdbcPasswordFile",
          "kafkaPropertiesFile");

  private Benchmark() {}

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

  /**
   * A broker and a PostgreSQL started once for several runs (the benchmark's own test, where
   * starting them for each mode took longer than most small runs): each run gets a database of its
   * own on them.
   */
  public static final class Servers implements AutoCloseable {
    private final BenchServers started;

    private Servers(BenchServers started) {
      this.started = started;
    }

    public static Servers start() throws Exception {
      return new Servers(BenchServers.start(Map.of()));
    }

    @Override
    public void close() throws Exception {
      started.close();
    }
  }

  /** Runs one benchmark on servers of its own (or given ones) and returns its figures. */
  public static Map<String, Object> run(String[] args) throws Exception {
    return run(args, null);
  }

  /** Runs one benchmark on {@code shared} servers (null: its own or given ones). */
  public static Map<String, Object> run(String[] args, Servers shared) throws Exception {
    Map<String, String> own = new HashMap<>();
    Map<String, String> given = new HashMap<>();
    List<String> service = new ArrayList<>();
    for (String arg : args) {
      String[] kv = arg.startsWith("--") ? arg.substring(2).split("=", 2) : new String[] {arg};
      if (arg.equals("--peer")) {
        own.put("peer", "true");
      } else if (kv.length == 2 && OWN.contains(kv[0])) {
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
    if (shared != null && !given.isEmpty()) {
      throw new IllegalArgumentException("servers are either shared or given: " + given.keySet());
    }
    try (BenchServers servers =
        shared == null ? BenchServers.start(given) : BenchServers.onServersOf(shared.started)) {
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("mode", mode);
      result.put("runner", runner);
      result.put("cores", Runtime.getRuntime().availableProcessors());
      result.putAll(servers.durability());
      switch (mode) {
        case "fanout" ->
            new FanOutBench(servers, runner, launch, service)
                .fanout(
                    sizes(own.getOrDefault("subscribers", "10000,200000,1000000")),
                    Integer.parseInt(own.getOrDefault("repeats", "3")),
                    result);
        case "latency" ->
            new LatencyBench(servers, runner, launch, service)
                .latency(sizes(own.getOrDefault("subscribers", "1000000")).get(0), result);
        case "idle" ->
            new IdleBench(servers, runner, launch, service)
                .idle(
                    Integer.parseInt(own.getOrDefault("settleSeconds", "240")),
                    Integer.parseInt(own.getOrDefault("idleSeconds", "60")),
                    Integer.parseInt(own.getOrDefault("endedCampaigns", "0")),
                    Integer.parseInt(own.getOrDefault("briefCampaigns", "0")),
                    Integer.parseInt(own.getOrDefault("briefSeconds", "120")),
                    result);
        case "scale" ->
            new ScaleBench(servers, runner, launch, service)
                .scale(
                    sizes(own.getOrDefault("subscribers", "1000000,10000000")),
                    Arrays.asList(
                        own.getOrDefault("subscriberModes", "snapshot,lookup").split(",")),
                    sizes(own.getOrDefault("bigSubscribers", "1000000")).get(0),
                    result);
        case "restart" ->
            new RestartBench(servers, runner, launch, service)
                .restart(
                    Integer.parseInt(own.getOrDefault("restartCampaigns", "10000")),
                    sizes(own.getOrDefault("bigSubscribers", "1000000")).get(0),
                    result);
        case "rush" ->
            new RushBench(servers, runner, launch, service)
                .rush(
                    Arrays.stream(own.getOrDefault("rush", "10000x10,2000x500").split(","))
                        .map(RushBench.Workload::parse)
                        .toList(),
                    Boolean.parseBoolean(own.getOrDefault("peer", "false")),
                    result);
        case "startup" ->
            new StartupBench(servers, runner, launch, service)
                .startup(Integer.parseInt(own.getOrDefault("repeats", "3")), result);
        default ->
            throw new IllegalArgumentException(
                "--mode must be fanout, rush, latency, idle, scale, restart or startup");
      }
      return result;
    }
  }

  static List<Integer> sizes(String list) {
    return Arrays.stream(list.split(","))
        .map(s -> Integer.parseInt(s.trim().replace("_", "")))
        .collect(Collectors.toList());
  }
}
