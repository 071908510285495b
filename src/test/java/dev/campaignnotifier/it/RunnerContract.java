package dev.campaignnotifier.it;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.campaignnotifier.Samples;
import dev.campaignnotifier.model.DeadLetterReason;
import dev.campaignnotifier.subscribers.SubscriberMode;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

/**
 * The behaviour every runner must show, in both subscriber modes, on real servers: the sample round
 * trip, a subscriber added while running, dead letters next to good campaigns, a repeated campaign,
 * a campaign held until its start. A runner's test class only says how to launch it and in which
 * mode. Only the sinks are observed (not Beam metrics), because not every runner reports metrics
 * while a streaming job runs.
 */
abstract class RunnerContract {
  static final Duration WAIT = Duration.ofSeconds(120);

  /** Options that select and configure the runner under test. */
  abstract String[] runnerArgs();

  /** How subscribers are found ({@code --subscribers}); each runner is tested in both modes. */
  SubscriberMode mode() {
    return SubscriberMode.snapshot;
  }

  RunningPipeline start(String... more) {
    List<String> args = new ArrayList<>(List.of(runnerArgs()));
    args.add("--subscribers=" + mode());
    args.addAll(List.of(more));
    return RunningPipeline.start(true, args.toArray(String[]::new));
  }

  static long now() {
    return Instant.now().getEpochSecond();
  }

  @Test
  void sampleRoundTripAndDeadLettersAndRepeats() {
    try (RunningPipeline service = start()) {
      String sample =
          Samples.campaignJson(Samples.CAMPAIGN_ID, Samples.RESTAURANT, now() - 60, now() + 3600);
      service.publish("key", sample);
      service.publish("bad", "{not json");
      service.publish("key", sample);
      service.publish(
          "k", Samples.campaignJson("marker", Samples.OTHER_RESTAURANT, now() - 10, now() + 3600));

      Await.until("10 rows", WAIT, () -> service.feedbackRows() >= 10);
      Await.until("10 messages", WAIT, () -> service.notifications().size() >= 10);
      Await.until("1 dead letter", WAIT, () -> service.deadLetters().size() >= 1);

      assertEquals(10, service.feedbackRows());
      List<String> keys =
          service.notifications().stream()
              .map(ConsumerRecord::key)
              .sorted()
              .collect(Collectors.toList());
      assertEquals(10, keys.size(), keys.toString());
      assertEquals(10, keys.stream().distinct().count(), "a repeated campaign notifies once");
      List<ConsumerRecord<String, String>> deadLetters = service.deadLetters();
      assertEquals(1, deadLetters.size());
      assertEquals(true, deadLetters.get(0).value().contains(DeadLetterReason.NOT_JSON.name()));
    }
  }

  @Test
  void campaignPublishedBeforeStartArrivesAtStart() {
    try (RunningPipeline service = start()) {
      long start = now() + 5;
      service.publish("k", Samples.campaignJson("soon", Samples.RESTAURANT, start, start + 3600));
      Await.until("9 rows", WAIT, () -> service.feedbackRows() >= 9);
      long firstTrigger =
          service.count("SELECT min(trigger_datetime_created) FROM public.subscribers_feedback");
      assertTrue(firstTrigger >= start, "fanned out at " + firstTrigger + ", start " + start);
      Await.until("9 messages", WAIT, () -> service.notifications().size() >= 9);
      assertEquals(9, service.feedbackRows());
    }
  }

  @Test
  void subscriberInsertedWhileRunningIsNotified() {
    try (RunningPipeline service = start()) {
      service.publish(
          "k", Samples.campaignJson("first", Samples.OTHER_RESTAURANT, now() - 10, now() + 3600));
      Await.until("the first row", WAIT, () -> service.feedbackRows() >= 1);
      service.execute(
          "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id)"
              + " VALUES ('new-client', '"
              + Samples.OTHER_RESTAURANT
              + "')");
      // With a 1 s refresh, a new campaign published after each fan-out is soon fanned out
      // against a snapshot that has the new client; each has its own id, so none is a repeat.
      long deadline = System.nanoTime() + WAIT.toNanos();
      boolean notified = false;
      for (int i = 0; !notified && System.nanoTime() < deadline; i++) {
        String id = "probe-" + i;
        service.publish(
            "k", Samples.campaignJson(id, Samples.OTHER_RESTAURANT, now() - 10, now() + 3600));
        Await.until(id + " fanned out", WAIT, () -> rows(service, id, Samples.OTHER_CLIENT) == 1);
        notified = rows(service, id, "new-client") == 1;
      }
      assertTrue(notified, "the new subscriber was never notified");
    }
  }

  /**
   * What a restaurant or a client takes back stays taken back (docs/contract.md), met the way a
   * real client meets it:
   *
   * <ul>
   *   <li>a restaurant's app cancels a campaign still to start by publishing it again "ended now"
   *       (its end 10 s ago, so before its start): nothing is sent, and it is no dead letter; the
   *       same message with no earlier version is one ({@code START_AFTER_END});
   *   <li>two clients add the restaurant of a held campaign to favourites, one removes it again
   *       before the start: only the other is notified;
   *   <li>a client adds the restaurant of an active campaign and removes it again while the
   *       campaign's own fan-out is still being recorded (held there by a lock on the ledger), so
   *       the late step has not reached them: they get nothing, the one who kept it does.
   * </ul>
   */
  @Test
  void whatARestaurantOrAClientTakesBackStaysTakenBack() throws Exception {
    assumeTrue(coversTakenBackInThisJvm(), "run with the service in its own JVM instead");
    try (RunningPipeline s = start()) {
      takenBack(s, true);
    }
  }

  /**
   * The scenes of {@link #whatARestaurantOrAClientTakesBackStaysTakenBack} on a running service
   * ({@code s}), in this JVM or its own; {@code removalBeforeTheLateStep}: whether to set the
   * third.
   */
  static void takenBack(ServiceClient s, boolean removalBeforeTheLateStep) throws Exception {
    {
      s.insertSubscribers(BUSY_RESTAURANT, BUSY);
      s.publish("k", Samples.campaignJson("warm", BUSY_RESTAURANT, now() - 10, now() + 3600));
      // By its fan-out or, if the snapshot was older than the favourites, by the late step.
      Await.until("the service running", WAIT, () -> s.rowsOf("warm") == BUSY);
      Await.until("warm's messages", WAIT, () -> messagesOf(s, "warm").size() == BUSY);
      if (removalBeforeTheLateStep) {
        // First, while nothing else is delivered: it holds the delivery with a lock.
        removedBeforeTheLateStep(s);
      }

      String favourites = "favourites-restaurant";
      long start = now() + 20;
      s.publish(
          "held", Samples.versionJson("off", Samples.RESTAURANT, start, start + 3600, 0, "lunch"));
      s.publish(
          "held", Samples.versionJson("on", Samples.RESTAURANT, start, start + 3600, 0, "lunch"));
      s.publish(
          "held", Samples.versionJson("fav", favourites, start, start + 3600, 0, "for favourites"));
      long goneId = subscribeReturningId(s, "gone", favourites);
      subscribe(s, "kept", favourites);
      s.publish(
          "held",
          Samples.versionJson("off", Samples.RESTAURANT, start, now() - 10, 8, "called off"));
      // Read after the cancellation (one key, one partition): its letter says the two were read.
      s.publish(
          "held",
          Samples.versionJson("nobody-known", Samples.RESTAURANT, start, now() - 10, 8, "x"));
      Await.until("the dead letter of 'nobody-known'", WAIT, () -> letterOf(s, "nobody-known"));
      Await.until("the watcher past 'gone'", WAIT, () -> seenThrough(s) >= goneId);
      s.execute("DELETE FROM public.subscribers_restaurants WHERE client_id = 'gone'");

      Await.until("the held campaign's start", Duration.ofSeconds(60), () -> now() > start);
      Await.until("'on' sent at its start", WAIT, () -> s.rowsOf("on") == 9);
      Await.until("'kept' notified", WAIT, () -> rows(s, "fav", "kept") == 1);
      Await.until("on's 9 messages", WAIT, () -> messagesOf(s, "on").size() == 9);
      List<ConsumerRecord<String, String>> letters = s.deadLetters();
      List<Executable> checks = new ArrayList<>();
      checks.add(() -> assertEquals(0, s.rowsOf("off"), "rows of 'off', called off"));
      checks.add(() -> assertEquals(List.of(), messagesOf(s, "off"), "messages of 'off'"));
      checks.add(() -> assertEquals(1, s.rowsOf("fav"), "rows of 'fav': 'kept' only"));
      checks.add(() -> assertEquals(List.of("fav:kept"), messagesOf(s, "fav")));
      checks.add(
          () ->
              assertEquals(
                  1,
                  letters.size(),
                  "one dead letter, of 'nobody-known'; none of the cancellation"));
      checks.add(
          () ->
              assertTrue(
                  letters.get(0).value().startsWith("{\"reason\":\"START_AFTER_END\""),
                  letters.get(0).value()));
      if (removalBeforeTheLateStep) {
        checks.add(() -> assertEquals(0, rows(s, "busy", "late-gone"), "rows of 'late-gone'"));
        checks.add(() -> assertEquals(BUSY + 1, s.rowsOf("busy")));
        checks.add(
            () ->
                assertEquals(
                    List.of(),
                    messagesOf(s, "busy").stream().filter("busy:late-gone"::equals).toList(),
                    "messages of 'late-gone'"));
      }
      assertAll(checks);
    }
  }

  /**
   * Whether this class runs the scenes in the test's JVM: on Flink. The DirectRunner and the Spark
   * launcher run them with the service in a JVM of its own, in both modes ({@code TakenBackIT},
   * {@code SparkLauncherIT}), and once is enough for the suite's time.
   */
  boolean coversTakenBackInThisJvm() {
    return true;
  }

  private static final String BUSY_RESTAURANT = "busy-restaurant";
  private static final int BUSY = 5;

  private static void removedBeforeTheLateStep(ServiceClient s) throws Exception {
    String busy = BUSY_RESTAURANT;
    try (Connection ledger = s.db()) {
      ledger.setAutoCommit(false);
      try (Statement lock = ledger.createStatement()) {
        // Its rows and messages go; its ledger rows wait: not recorded in full.
        lock.execute("LOCK TABLE public.campaign_slices IN SHARE MODE");
      }
      s.publish("k", Samples.campaignJson("busy", busy, now() - 10, now() + 3600));
      // Its fan-out has read its subscribers once its ledger row waits for the lock (a slice, or
      // the row of an empty fan-out where a snapshot did not have them yet: then the late step
      // brings them too, once the lock is gone).
      Await.until(
          "busy's fan-out waiting for the ledger",
          WAIT,
          () ->
              s.count(
                      "SELECT count(*) FROM pg_locks WHERE NOT granted"
                          + " AND relation = 'public.campaign_slices'::regclass")
                  > 0);
      long lateId = subscribeReturningId(s, "late-gone", busy);
      subscribe(s, "late-kept", busy);
      Await.until("the watcher past 'late-gone'", WAIT, () -> seenThrough(s) > lateId);
      s.execute("DELETE FROM public.subscribers_restaurants WHERE client_id = 'late-gone'");
      ledger.commit();
    }
    Await.until("'late-kept' notified", WAIT, () -> rows(s, "busy", "late-kept") == 1);
    Await.until(
        "late-kept's message", WAIT, () -> messagesOf(s, "busy").contains("busy:late-kept"));
  }

  /** Whether a dead letter carries {@code campaign} (a name no other letter contains). */
  private static boolean letterOf(ServiceClient s, String campaign) {
    return s.deadLetters().stream().anyMatch(r -> r.value().contains(campaign));
  }

  private static long seenThrough(ServiceClient s) {
    return s.count("SELECT coalesce(max(seen_through), 0) FROM public.campaign_notifier_watch");
  }

  private static long subscribeReturningId(ServiceClient s, String client, String restaurant) {
    subscribe(s, client, restaurant);
    return s.count(
        "SELECT max(id) FROM public.subscribers_restaurants WHERE client_id = '" + client + "'");
  }

  /**
   * A client who adds the restaurant to favourites while its campaign is active gets the campaign,
   * once, within seconds; one who adds it after the campaign's end does not. A late subscriber of
   * another, longer campaign, added after the eleventh, shows that the service has looked past the
   * eleventh's row.
   */
  @TestFactory
  Stream<DynamicTest> aLateSubscriberIsNotifiedOnceAndNobodyAfterTheEnd() {
    if (!coversLateSubscribers()) {
      return Stream.empty();
    }
    return IntStream.rangeClosed(1, LATE_RUNS)
        .mapToObj(run -> DynamicTest.dynamicTest("run " + run, this::lateSubscriber));
  }

  /**
   * Whether this class runs the late-subscriber test: about 15 s of waiting for a campaign's end,
   * so it runs once per runner and once per subscriber mode, not in every combination. Covered:
   * Direct and Spark in {@code snapshot} mode, Spark and Flink in {@code lookup} mode (each
   * runner's default). The step is the same code in both modes and with turns; a mode changes only
   * how far back a favourite counts as recent.
   */
  boolean coversLateSubscribers() {
    return true;
  }

  /**
   * How often the late-subscriber test runs, each on a new pipeline in this JVM: once in CI; more
   * with {@code -Dcontract.lateRuns=10} (Spark's static watermark store outlives a pipeline).
   */
  static final int LATE_RUNS = Integer.getInteger("contract.lateRuns", 1);

  private void lateSubscriber() {
    try (RunningPipeline service = start()) {
      // Long enough for both fan-outs and the tenth (they took 2-5 s of it on each runner on our
      // 2-core machines: the test prints what was left), short because the second half waits for
      // it.
      long end = now() + 15;
      service.publish("k", Samples.campaignJson("short", Samples.RESTAURANT, now() - 10, end));
      service.publish(
          "k", Samples.campaignJson("marker", Samples.OTHER_RESTAURANT, now() - 10, now() + 3600));
      Await.until(
          "both fan-outs",
          WAIT,
          () -> service.rowsOf("short") == 9 && service.rowsOf("marker") == 1);
      long inserted = System.nanoTime();
      subscribe(service, "tenth", Samples.RESTAURANT);
      Await.until(
          "the tenth notified", Duration.ofSeconds(30), () -> service.rowsOf("short") == 10);
      System.out.printf(
          "late subscriber, %s: notified %.1f s after the insert, %d s before the campaign's end%n",
          getClass().getSimpleName(), (System.nanoTime() - inserted) / 1e9, end - now());
      Await.until("10 messages", WAIT, () -> messagesOf(service, "short").size() == 10);

      Await.until("the campaign's end", Duration.ofSeconds(90), () -> now() > end);
      subscribe(service, "eleventh", Samples.RESTAURANT);
      subscribe(service, "marker-late", Samples.OTHER_RESTAURANT);
      Await.until("the marker's late subscriber", WAIT, () -> service.rowsOf("marker") == 2);
      assertEquals(10, service.rowsOf("short"));
      List<String> keys = messagesOf(service, "short");
      assertEquals(10, keys.size(), keys.toString());
      assertEquals(10, keys.stream().distinct().count(), keys.toString());
      assertTrue(keys.contains("short:tenth"), keys.toString());
    }
  }

  /**
   * Whether this class runs the campaign-update test (about a minute): once per runner, in lookup
   * mode, each runner's own way of fanning out (in one go on Direct and Spark, in turns on Flink).
   */
  boolean coversUpdates() {
    return true;
  }

  /**
   * A restaurant publishes its campaigns again (docs/contract.md, Updates): a held campaign called
   * off sends nothing, even after a restart before its start; a 200,000-subscriber campaign sold
   * out in the middle of its fan-out stops; after an end moved later a late subscriber is notified
   * with the new text, after an end moved earlier one is not, and nobody is notified twice.
   */
  @TestFactory
  Stream<DynamicTest> aCampaignPublishedAgainIsCancelledEndedEarlyOrExtended() {
    if (!coversUpdates()) {
      return Stream.empty();
    }
    return Stream.of(DynamicTest.dynamicTest("on " + getClass().getSimpleName(), this::updates));
  }

  private void updates() {
    String updates = LocalServers.unique("updates");
    LocalServers.kafka().createTopics(1, updates);
    RunningPipeline service = start("--campaignUpdatesTopic=" + updates);
    try {
      String big = "big-restaurant";
      service.insertSubscribers(big, BIG_CAMPAIGN);
      long t = now();
      service.publish(
          "k", Samples.versionJson("off", Samples.RESTAURANT, t + 10, t + 3600, 0, "lunch"));
      service.publish(
          "k", Samples.versionJson("off", Samples.RESTAURANT, t + 10, t + 10, 1, "called off"));
      RunningPipeline first = service;
      Await.until("the cancellation recorded", WAIT, () -> versionsOf(first, "off") == 1);
      service = service.restart();
      RunningPipeline s = service;

      long bigStart = now();
      s.publish("k", Samples.versionJson("big", big, bigStart, t + 3600, 0, "lunch"));
      Await.until("the big fan-out under way", WAIT, () -> s.rowsOf("big") > 0);
      long rowsAtUpdate = s.rowsOf("big");
      long published = System.nanoTime();
      // Called off as an app ends a campaign "now": its end 10 s ago, before its start moments ago.
      s.publish("k", Samples.versionJson("big", big, bigStart, bigStart - 10, 1, "sold out"));
      Await.until("the sold-out version recorded", WAIT, () -> versionsOf(s, "big") == 1);
      double toRecorded = (System.nanoTime() - published) / 1e9;
      // When it was first seen recorded (the pipeline records it again when it reads it, and that
      // moves changed_at): the same host's clock as PostgreSQL's recorded_at.
      String recordedAt = "to_timestamp(" + System.currentTimeMillis() + " / 1000.0)";

      long firstEnd = Math.max(now() + 12, t + 12);
      s.publish(
          "k", Samples.versionJson("longer", Samples.OTHER_RESTAURANT, t - 10, firstEnd, 0, "a"));
      s.publish("k", Samples.versionJson("shorter", Samples.RESTAURANT, t - 10, t + 3600, 0, "b"));
      Await.until(
          "both fanned out", WAIT, () -> s.rowsOf("longer") == 1 && s.rowsOf("shorter") == 9);
      s.publish(
          "k",
          Samples.versionJson("longer", Samples.OTHER_RESTAURANT, t - 10, t + 3600, 1, "extended"));
      s.publish(
          "k",
          Samples.versionJson("shorter", Samples.RESTAURANT, t - 10, now() + 2, 1, "ends early"));
      Await.until(
          "both changes recorded",
          WAIT,
          () -> versionsOf(s, "longer") == 1 && versionsOf(s, "shorter") == 1);

      Await.until("longer's first end", Duration.ofSeconds(90), () -> now() > firstEnd + 1);
      s.execute(
          "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id) VALUES"
              + " ('late-longer', '"
              + Samples.OTHER_RESTAURANT
              + "'), ('late-shorter', '"
              + Samples.RESTAURANT
              + "')");
      Await.until("late-longer notified", WAIT, () -> rows(s, "longer", "late-longer") == 1);
      Await.until(
          "late-longer's message",
          WAIT,
          () -> s.notificationsByKey().containsKey("longer:late-longer"));

      long bigRows = s.rowsOf("big");
      long begunAfter =
          s.count(
              "SELECT count(*) FROM public.campaign_slices WHERE adv_campaign_id = 'big'"
                  + " AND recorded_at > "
                  + recordedAt);
      long begunLate =
          s.count(
              "SELECT count(*) FROM public.campaign_slices WHERE adv_campaign_id = 'big'"
                  + " AND recorded_at > "
                  + recordedAt
                  + " + interval '2 seconds'");
      long lastBegunMillis =
          s.count(
              "SELECT coalesce(round(extract(epoch FROM max(recorded_at) - "
                  + recordedAt
                  + ") * 1000), 0) FROM public.campaign_slices WHERE adv_campaign_id = 'big'");
      System.out.printf(
          "sold out mid fan-out, %s: %d rows at the update's publish, %d in the end (of %d);"
              + " recorded %.1f s after its publish; %d slices begun after that, the last %d ms"
              + " after%n",
          getClass().getSimpleName(),
          rowsAtUpdate,
          bigRows,
          BIG_CAMPAIGN,
          toRecorded,
          begunAfter,
          lastBegunMillis);
      assertTrue(bigRows < BIG_CAMPAIGN, "the fan-out stopped: " + bigRows + " rows");
      assertEquals(0, begunLate, "slices begun more than 2 s after the update was recorded");
      assertEquals(bigRows, messagesOf(s, "big").size(), "a message for each row, no more");

      assertEquals(0, s.rowsOf("off"), "called off, before and after a restart");
      assertEquals(9, s.rowsOf("shorter"));
      assertEquals(0, rows(s, "shorter", "late-shorter"), "after an end moved earlier");
      assertEquals(2, s.rowsOf("longer"));
      List<String> longer = messagesOf(s, "longer");
      assertEquals(2, longer.size(), longer.toString());
      String late =
          s.notifications().stream()
              .filter(r -> r.key().equals("longer:late-longer"))
              .findFirst()
              .orElseThrow()
              .value();
      assertTrue(late.contains("extended"), "the new text: " + late);
      assertTrue(late.contains(String.valueOf(t + 3600)), "the new end: " + late);

      // The active campaigns' newest versions, for a push service's queue; not the held one's.
      Await.until("3 campaign updates", WAIT, () -> s.readAll(updates).size() >= 3);
      List<String> changed = s.readAll(updates).stream().map(ConsumerRecord::key).sorted().toList();
      assertEquals(List.of("big", "longer", "shorter"), changed);
      assertTrue(
          s.readAll(updates).stream()
              .anyMatch(r -> r.key().equals("big") && r.value().contains("sold out")));
    } finally {
      service.close();
    }
  }

  /** Subscribers of the campaign ended early in the middle of its fan-out. */
  static final int BIG_CAMPAIGN = 200_000;

  private static long versionsOf(ServiceClient service, String campaign) {
    return service.count(
        "SELECT count(*) FROM public.campaign_versions WHERE adv_campaign_id = '" + campaign + "'");
  }

  private static void subscribe(ServiceClient service, String client, String restaurant) {
    service.execute(
        "INSERT INTO public.subscribers_restaurants (client_id, restaurant_id) VALUES ('"
            + client
            + "', '"
            + restaurant
            + "')");
  }

  private static List<String> messagesOf(ServiceClient service, String campaign) {
    return service.notifications().stream()
        .map(ConsumerRecord::key)
        .filter(k -> k.startsWith(campaign + ":"))
        .collect(Collectors.toList());
  }

  private static long rows(ServiceClient service, String campaign, String client) {
    return service.count(
        "SELECT count(*) FROM public.subscribers_feedback WHERE adv_campaign_id = '"
            + campaign
            + "' AND client_id = '"
            + client
            + "'");
  }
}
