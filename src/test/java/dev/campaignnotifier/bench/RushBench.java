package dev.campaignnotifier.bench;

import dev.campaignnotifier.bench.ServiceUnderTest.Timing;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The {@code rush} mode, the lunch rush: C campaigns of S subscribers each, on C restaurants, all
 * published at once; then one campaign of C x S subscribers on the same service; then, with the
 * service stopped, the floor of the same C x S rows and messages ({@link Floor}, both ways).
 * Reports publish to the last row and the last message, the ratio to the floor and to the single
 * campaign, the service's CPU seconds per 1,000 campaigns, and p50 / p99 over the campaigns of
 * publish to each one's last row.
 *
 * <p>A campaign's last row is when the delivery ledger shows all its slices: a slice's ledger row
 * commits in the transaction of its feedback rows, and a poll of the ledger (one row per slice)
 * every 100 ms costs PostgreSQL far less than counting the feedback rows of every campaign would.
 * The totals are counted from the feedback table itself.
 */
final class RushBench extends BenchRun {
  /** C campaigns of S subscribers. */
  record Workload(int campaigns, int subscribers) {
    String name() {
      return "rush-" + campaigns + "x" + subscribers;
    }

    int notifications() {
      return campaigns * subscribers;
    }

    static Workload parse(String text) {
      String[] cs = text.trim().split("x");
      return new Workload(Integer.parseInt(cs[0]), Integer.parseInt(cs[1]));
    }
  }

  RushBench(BenchServers servers, String runner, String launch, List<String> serviceArgs) {
    super(servers, runner, launch, serviceArgs);
  }

  /**
   * @param peer whether the plain Structured Streaming job ({@link ServiceUnderTest#startPeer})
   *     runs the same workloads after the service, on the same servers, for the same floor
   */
  void rush(List<Workload> workloads, boolean peer, Map<String, Object> result) throws Exception {
    for (Workload w : workloads) {
      servers.update(
          "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
              + " SELECT 'client-' || g, ? || '-r-' || r"
              + " FROM generate_series(1, ?) r, generate_series(1, ?) g",
          w.name(),
          w.campaigns(),
          w.subscribers());
      servers.subscribers("single-" + w.name(), w.notifications());
    }
    servers.update("ANALYZE public.subscribers_restaurants");
    List<Map<String, Object>> runs;
    try (ServiceUnderTest service = startService("rush")) {
      runs = measure(service, workloads);
    }
    List<Map<String, Object>> peerRuns = List.of();
    if (peer) {
      try (ServiceUnderTest job = ServiceUnderTest.startPeer(servers, "peer-rush")) {
        peerRuns = measure(job, workloads);
      }
    }
    for (int i = 0; i < runs.size(); i++) {
      Map<String, Object> r = runs.get(i);
      Workload w = new Workload((Integer) r.get("campaigns"), (Integer) r.get("subscribers"));
      List<Floor.Part> parts = new ArrayList<>(w.campaigns());
      for (int c = 1; c <= w.campaigns(); c++) {
        parts.add(Floor.part("floor-" + w.name() + "-" + c, "floor-r-" + c, w.subscribers()));
      }
      Floor.Time floor = Floor.measure(servers, parts, "floor-" + w.name(), sliceSize());
      List<Map<String, Object>> both = new ArrayList<>(List.of(r));
      if (peer) {
        both.add(peerRuns.get(i));
      }
      for (Map<String, Object> each : both) {
        each.put("floor_one_transaction_ms", Math.round(floor.oneTransactionMillis()));
        each.put("floor_sliced_ms", Math.round(floor.slicedMillis()));
        each.put("floor_ms", Math.round(floor.millis()));
        each.put("ratio_to_floor", round2(((Long) each.get("pipeline_ms")) / floor.millis()));
      }
      if (peer) {
        r.put(
            "ratio_to_peer",
            round2(
                ((Long) r.get("pipeline_ms"))
                    / (double) (Long) peerRuns.get(i).get("pipeline_ms")));
      }
    }
    result.put("runs", runs);
    if (peer) {
      result.put("peer_runs", peerRuns);
    }
    System.out.printf(
        Locale.ROOT,
        "%n%-19s %13s %9s %9s %9s %6s %9s %6s %9s %9s %7s%n",
        "",
        "campaigns",
        "last row",
        "last msg",
        "floor",
        "ratio",
        "single",
        "ratio",
        "p50 row",
        "p99 row",
        "CPU s");
    for (int i = 0; i < runs.size(); i++) {
      print(runner, runs.get(i));
      if (peer) {
        print(ServiceUnderTest.PEER, peerRuns.get(i));
      }
    }
    if (peer) {
      for (Map<String, Object> r : runs) {
        System.out.printf(
            Locale.ROOT,
            "%s / %s, %d x %d: %.2f%n",
            runner,
            ServiceUnderTest.PEER,
            r.get("campaigns"),
            r.get("subscribers"),
            r.get("ratio_to_peer"));
      }
    }
  }

  private static void print(String who, Map<String, Object> r) {
    System.out.printf(
        Locale.ROOT,
        "%-19s %6d x %4d %6d ms %6d ms %6d ms %6.2f %6d ms %6.2f %9s %9s %7.2f per 1k%n",
        who,
        r.get("campaigns"),
        r.get("subscribers"),
        r.get("publish_to_last_row_ms"),
        r.get("publish_to_last_message_ms"),
        r.get("floor_ms"),
        r.get("ratio_to_floor"),
        r.get("single_campaign_ms"),
        r.get("ratio_to_single"),
        r.containsKey("campaign_last_row_p50_ms") ? r.get("campaign_last_row_p50_ms") + " ms" : "-",
        r.containsKey("campaign_last_row_p99_ms") ? r.get("campaign_last_row_p99_ms") + " ms" : "-",
        r.get("cpu_s_per_1000_campaigns"));
  }

  /**
   * Each workload on {@code service}: the rush, then one campaign of as many notifications. The
   * peer job keeps no ledger, so its campaigns' own last rows are not known.
   */
  private List<Map<String, Object>> measure(ServiceUnderTest service, List<Workload> workloads)
      throws Exception {
    List<Map<String, Object>> runs = new ArrayList<>();
    for (Workload w : workloads) {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("campaigns", w.campaigns());
      r.put("subscribers", w.subscribers());
      servers.truncateFeedback();
      List<String[]> campaigns = new ArrayList<>(w.campaigns());
      for (int i = 1; i <= w.campaigns(); i++) {
        campaigns.add(new String[] {w.name() + "-" + i, w.name() + "-r-" + i});
      }
      double cpuBefore = service.cpuSeconds();
      long idsBefore = servers.idsDrawn();
      AtomicBoolean done = new AtomicBoolean();
      Map<String, Long> finishedAt = new HashMap<>();
      CompletableFuture<Void> ledger =
          service.isPeer()
              ? CompletableFuture.completedFuture(null)
              : CompletableFuture.runAsync(() -> watchLedger(w.name() + "-", finishedAt, done));
      long published = service.publishAll(campaigns);
      Timing timing;
      try {
        timing = service.awaitAll(w.name() + "-", w.notifications(), published, idsBefore);
        // The ledger poll sees the last campaigns up to one poll later.
        Thread.sleep(300);
      } finally {
        done.set(true);
        ledger.get();
      }
      double cpu = service.cpuSeconds() - cpuBefore;
      r.put("publish_to_last_row_ms", Math.round(timing.lastRowMillis()));
      r.put("publish_to_last_message_ms", Math.round(timing.lastMessageMillis()));
      r.put("pipeline_ms", Math.round(timing.bothMillis()));
      if (!service.isPeer()) {
        List<Double> each = new ArrayList<>();
        finishedAt.values().forEach(at -> each.add((at - published) / 1e6));
        if (each.size() != w.campaigns()) {
          throw new IllegalStateException(
              w.name() + ": the ledger shows " + each.size() + " campaigns finished");
        }
        r.put("campaign_last_row_p50_ms", Math.round(percentile(each, 50)));
        r.put("campaign_last_row_p99_ms", Math.round(percentile(each, 99)));
      }
      r.put("cpu_s_per_1000_campaigns", round2(cpu / (w.campaigns() / 1000.0)));
      servers.truncateFeedback();
      Timing single =
          service.deliver("single-" + w.name(), "single-" + w.name(), w.notifications());
      r.put("single_campaign_ms", Math.round(single.bothMillis()));
      r.put("ratio_to_single", round2(timing.bothMillis() / single.bothMillis()));
      runs.add(r);
    }
    return runs;
  }

  /** Notes when each campaign of {@code prefix} is finished in the ledger, every 100 ms. */
  private void watchLedger(String prefix, Map<String, Long> finishedAt, AtomicBoolean done) {
    String sql =
        "SELECT adv_campaign_id FROM public.campaign_slices WHERE adv_campaign_id LIKE ?"
            + " GROUP BY adv_campaign_id, fanout_id"
            + " HAVING max(of_slices) = count(*) FILTER (WHERE slice > 0)";
    try (Connection c = servers.db.getConnection();
        PreparedStatement s = c.prepareStatement(sql)) {
      s.setString(1, prefix + "%");
      while (!done.get()) {
        try (ResultSet rows = s.executeQuery()) {
          long now = System.nanoTime();
          while (rows.next()) {
            finishedAt.putIfAbsent(rows.getString(1), now);
          }
        }
        Thread.sleep(100);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("reading the ledger failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
