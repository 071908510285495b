package dev.campaignnotifier.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The {@code restart} mode: a restart after a day of campaigns, with and without the ledger. */
final class RestartBench extends BenchRun {
  RestartBench(BenchServers servers, String runner, String launch, List<String> serviceArgs) {
    super(servers, runner, launch, serviceArgs);
  }

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
    servers.awaitStatisticsOfClosedConnections(); // this count's own reads, before the start
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
      service.kill(); // the reads end here: a graceful stop would add reads of its own
    }
    servers.awaitStatisticsOfClosedConnections();
    long rows = rowsRead("subscribers_feedback,campaign_slices") - rowsBefore;
    for (int i = 0; i < CUT_SHORT; i++) {
      awaitRows("cut-" + i, CUT_SIZE); // after the statistics: this count reads the table too
    }
    r.put("rows_read_from_postgres", rows);
    r.put("percent_of_delivered", round2(100.0 * rows / delivered));
    System.out.printf(Locale.ROOT, "%nrestart %s%n", r);
    return r;
  }
}
