package dev.campaignnotifier.late;

import dev.campaignnotifier.delivery.DeliverNotifications;
import dev.campaignnotifier.delivery.Delivered;
import dev.campaignnotifier.io.Retry;
import dev.campaignnotifier.late.NotifyLateSubscribers.Event;
import dev.campaignnotifier.late.NotifyLateSubscribers.Restaurant;
import dev.campaignnotifier.late.WatchSubscriptions.Mark;
import dev.campaignnotifier.late.WatchSubscriptions.Row;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Clock;
import dev.campaignnotifier.model.Slice;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The late step beside the pipeline, in the service's own JVM (Spark's driver), where the runner's
 * profile says so ({@code RunnerProfile#lateInDriver}): once a second it reads the subscriptions
 * added since its mark ({@link WatchSubscriptions.Table}, the same mark, gaps and saved mark as the
 * pipeline's watcher) and the campaigns the pipeline recorded as active since its last read ({@link
 * ActiveCampaigns}), applies the same rules as the pipeline's late step ({@link Restaurants}: a
 * pair of campaign and subscription is checked once the campaign's fan-out is recorded in full, a
 * client with a feedback row is skipped, nobody after the end), and delivers what they make in its
 * own thread ({@link DeliverNotifications#inDriver}). Its records are plain maps: a restart starts
 * them afresh from the table (every campaign not ended) and the saved mark, as the Spark runner's
 * state starts afresh with each run's checkpoint directory.
 *
 * <p>Why beside: on Beam 2.70's Spark runner the pipeline's late step was a source and three
 * stateful steps whose timers visit every key in every micro-batch, a third of the cost of a rush
 * and of an idle service (docs/performance.md, "The late step beside the pipeline").
 */
public final class LateInDriver {
  private static final Logger LOG = LoggerFactory.getLogger(LateInDriver.class);

  /** How often it looks. */
  static final long LOOK_MILLIS = 1000;

  /** How long the watcher waits before it starts again after a failure it cannot wait out. */
  static final long RESTART_MILLIS = 10_000;

  /** How often the rows of campaigns that ended are deleted. */
  static final long FORGET_MILLIS = 60_000;

  private final SerializableFunction<Void, DataSource> postgres;
  private final WatchSubscriptions.Table table;
  private final Restaurants rules;
  private final Slices delivery;
  private final Clock clock;
  private final Map<String, Restaurant> restaurants = new HashMap<>();
  private final Map<String, Long> due = new HashMap<>();
  private final Restaurants.Held held =
      new Restaurants.Held() {
        @Override
        public Restaurant get(String restaurant) {
          return restaurants.get(restaurant);
        }

        @Override
        public void put(String restaurant, Restaurant kept) {
          restaurants.put(restaurant, kept);
        }

        @Override
        public void remove(String restaurant) {
          restaurants.remove(restaurant);
        }
      };
  private Mark mark;
  private String readFrom = ActiveCampaigns.Read.FIRST;
  private long forgotAt;
  private boolean unavailable;
  private long notified;

  /** Where the slices it makes go: the delivery, or a test's list. */
  interface Slices {
    void deliver(List<Slice> slices) throws InterruptedException;
  }

  /**
   * @param recentMillis how long a subscription is kept for a campaign not yet active here
   * @param sliceSize most clients per slice made
   */
  LateInDriver(
      SerializableFunction<Void, DataSource> postgres,
      String consumerGroup,
      Delivered delivered,
      Slices delivery,
      Clock clock,
      long recentMillis,
      int sliceSize) {
    this.postgres = postgres;
    this.table = new WatchSubscriptions.Table(postgres, consumerGroup);
    this.delivery = delivery;
    this.clock = clock;
    this.rules = new Restaurants(delivered, recentMillis, sliceSize, n -> notified += n);
  }

  /**
   * Starts looking, in a thread of its own, until the pipeline has ended.
   *
   * @param activeBeforeStart the campaigns the replay plan found active and delivered in full:
   *     recorded as active first (an earlier run of another runner, or of a release before this
   *     table, did not)
   */
  public static void start(
      SerializableFunction<Void, DataSource> postgres,
      String consumerGroup,
      Delivered delivered,
      DeliverNotifications delivery,
      Clock clock,
      long recentMillis,
      int sliceSize,
      List<Campaign> activeBeforeStart,
      BooleanSupplier pipelineRunning) {
    Thread thread =
        new Thread(
            () -> {
              boolean recorded = activeBeforeStart.isEmpty();
              // A failure it cannot wait out inside a look (the delivery's set-up while PostgreSQL
              // is down, a sink's refusal) starts it again afresh, as a restart of the service
              // would: the records come back from the table and the saved mark.
              while (pipelineRunning.getAsBoolean()) {
                try (DeliverNotifications.InDriver inDriver = delivery.inDriver()) {
                  if (!recorded) {
                    ActiveCampaigns.write(postgres.apply(null), activeBeforeStart, () -> {});
                    recorded = true;
                  }
                  LateInDriver late =
                      new LateInDriver(
                          postgres,
                          consumerGroup,
                          delivered,
                          inDriver::deliver,
                          clock,
                          recentMillis,
                          sliceSize);
                  while (pipelineRunning.getAsBoolean()) {
                    late.look();
                    Thread.sleep(LOOK_MILLIS);
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  return;
                } catch (RuntimeException e) {
                  LOG.warn(
                      "The watcher of late subscribers failed; it starts again in {} ms",
                      RESTART_MILLIS,
                      e);
                  if (!Retry.pause(RESTART_MILLIS)) {
                    return;
                  }
                }
              }
            },
            "late-subscribers");
    thread.setDaemon(true);
    thread.start();
    LOG.info("Late subscribers are watched for beside the pipeline, every {} ms", LOOK_MILLIS);
  }

  /**
   * One look: the campaigns recorded since the last read and the subscriptions added since the mark
   * are taken in, the restaurants due are checked, and their slices delivered before the mark is
   * saved. While PostgreSQL is unavailable, nothing moves: the next look asks again.
   */
  void look() throws InterruptedException {
    long now = clock.nowMillis();
    try {
      if (mark == null) {
        mark = new Mark(table.start(), Map.of());
      }
      ActiveCampaigns.Read read = ActiveCampaigns.recordedSince(postgres.apply(null), readFrom);
      List<Row> rows = table.newRows(mark);
      for (Campaign campaign : read.campaigns()) {
        rules.take(held, due, campaign.restaurantId(), Event.released(campaign), now);
      }
      WatchSubscriptions.byRestaurant(rows)
          .forEach(
              (restaurant, clients) ->
                  rules.take(held, due, restaurant, Event.subscribed(clients), now));
      List<Slice> slices = new ArrayList<>();
      rules.checkDue(held, due, now, slices::add);
      if (!slices.isEmpty()) {
        delivery.deliver(slices);
      }
      readFrom = read.nextFrom();
      mark = mark.after(rows, System.currentTimeMillis());
      table.save(mark.seenThrough());
      if (now - forgotAt >= FORGET_MILLIS) {
        ActiveCampaigns.forgetEnded(postgres.apply(null), Math.floorDiv(now, 1000L) - 60);
        forgotAt = now;
      }
      if (unavailable) {
        unavailable = false;
        LOG.info("PostgreSQL reachable again: watching for late subscribers");
      }
    } catch (SQLException e) {
      if (!unavailable) {
        unavailable = true;
        LOG.warn("PostgreSQL unavailable to watch for late subscribers: {}", e.getMessage());
      }
    }
  }

  /** Late subscribers notified since the start (for tests). */
  long notified() {
    return notified;
  }

  /** Restaurants held now (for tests: what 100,000 campaigns leave behind). */
  int restaurantsHeld() {
    return restaurants.size();
  }
}
