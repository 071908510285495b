package dev.campaignnotifier.late;

import dev.campaignnotifier.campaigns.CampaignShards;
import dev.campaignnotifier.campaigns.ScheduleCampaigns;
import dev.campaignnotifier.delivery.Delivered;
import dev.campaignnotifier.fanout.FanOutTurns;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Clock;
import dev.campaignnotifier.model.Slice;
import dev.campaignnotifier.runner.SparkSafeMaps;
import dev.campaignnotifier.runner.SparkSafeTimersFn;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.BooleanCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.MapCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.state.MapState;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.Flatten;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionList;
import org.apache.beam.sdk.values.TypeDescriptor;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notifies a client who subscribes to a restaurant while one of its campaigns is active: once,
 * stamped with the moment of that notification, never after the campaign's end. Per restaurant
 * (under shards of restaurants, {@link LateFn}), Beam state holds the campaigns active now
 * (released by {@link ScheduleCampaigns}, let go at their end) and the subscriptions seen in the
 * last {@code recent} (a subscription can reach this step before the campaign it is late for: the
 * fan-out's reading of the table and the watcher's are not ordered). A pair of campaign and
 * subscription is checked once the campaign's fan-out is recorded in full (the delivery ledger),
 * against the feedback table: a client the fan-out reached, or one notified before, has a row and
 * is skipped; so a subscription made before the start, or removed and made again, is never a second
 * notification. The slices this step makes carry no fan-out id: they are not part of the ledger's
 * count of a fan-out. A newer version of a campaign (an update, {@code ScheduleCampaigns.CHANGED})
 * replaces the one held: late subscribers are notified until its end, with its text, and wait while
 * its start is to come.
 */
public final class NotifyLateSubscribers
    extends PTransform<PCollection<Campaign>, PCollection<Slice>> {
  private final PCollection<KV<String, List<String>>> subscriptions;
  private final Delivered delivered;
  private final Clock clock;
  private final Duration recent;
  private final int sliceSize;
  private final int shards;

  /**
   * @param subscriptions new (restaurant, client) pairs ({@code WatchSubscriptions})
   * @param recent how long a subscription is kept for a campaign that is not yet active here: more
   *     than the age of the subscriber data a fan-out may read (the snapshot's refresh period)
   * @param sliceSize most clients per slice made ({@code --deliverySliceSize})
   * @param shards the keys restaurants are kept under ({@link CampaignShards})
   */
  public NotifyLateSubscribers(
      PCollection<KV<String, List<String>>> subscriptions,
      Delivered delivered,
      Clock clock,
      Duration recent,
      int sliceSize,
      int shards) {
    this.subscriptions = subscriptions;
    this.delivered = delivered;
    this.clock = clock;
    this.recent = recent;
    this.sliceSize = sliceSize;
    this.shards = shards;
  }

  /** Either a campaign released, or clients who subscribed to the key's restaurant. */
  record Event(Campaign campaign, List<String> clients) {
    static Event released(Campaign campaign) {
      return new Event(campaign, null);
    }

    static Event subscribed(List<String> clients) {
      return new Event(null, clients);
    }
  }

  /** A flag, then the campaign or the clients. */
  static final class EventCoder extends AtomicCoder<Event> {
    /** As Java first computed it: pinned, since Flink keeps the coder beside its state. */
    private static final long serialVersionUID = -4360303664184719249L;

    private static final EventCoder INSTANCE = new EventCoder();
    private static final ListCoder<String> CLIENTS = ListCoder.of(StringUtf8Coder.of());

    static EventCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(Event e, OutputStream out) throws IOException {
      BooleanCoder.of().encode(e.campaign() != null, out);
      if (e.campaign() != null) {
        Campaign.CampaignCoder.of().encode(e.campaign(), out);
      } else {
        CLIENTS.encode(e.clients(), out);
      }
    }

    @Override
    public Event decode(InputStream in) throws IOException {
      return BooleanCoder.of().decode(in)
          ? Event.released(Campaign.CampaignCoder.of().decode(in))
          : Event.subscribed(CLIENTS.decode(in));
    }
  }

  /** The event under its restaurant's shard: the keys a runner tracks stay bounded. */
  private static KV<Integer, KV<String, Event>> byShard(
      String restaurant, Event event, int shards) {
    return KV.of(CampaignShards.shardOf(restaurant, shards), KV.of(restaurant, event));
  }

  /**
   * What is held for one restaurant: its campaigns active now, the clients seen subscribing lately
   * (client to epoch ms), and per campaign id the clients waiting to be checked and those this step
   * has notified.
   */
  record Restaurant(
      List<Campaign> campaigns,
      Map<String, Long> recent,
      Map<String, List<String>> pending,
      Map<String, List<String>> notified) {
    static final Restaurant NONE = new Restaurant(List.of(), Map.of(), Map.of(), Map.of());
  }

  /** The four parts of {@link Restaurant} in order. */
  static final class RestaurantCoder extends AtomicCoder<Restaurant> {
    /** As Java first computed it: pinned, since Flink keeps the coder beside its state. */
    private static final long serialVersionUID = 3181873824816022097L;

    private static final RestaurantCoder INSTANCE = new RestaurantCoder();
    private static final ListCoder<Campaign> CAMPAIGNS = ListCoder.of(Campaign.CampaignCoder.of());
    private static final MapCoder<String, Long> RECENT =
        MapCoder.of(StringUtf8Coder.of(), VarLongCoder.of());
    private static final MapCoder<String, List<String>> CLIENTS =
        MapCoder.of(StringUtf8Coder.of(), ListCoder.of(StringUtf8Coder.of()));

    static RestaurantCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(Restaurant r, OutputStream out) throws IOException {
      CAMPAIGNS.encode(r.campaigns(), out);
      RECENT.encode(r.recent(), out);
      CLIENTS.encode(r.pending(), out);
      CLIENTS.encode(r.notified(), out);
    }

    @Override
    public Restaurant decode(InputStream in) throws IOException {
      return new Restaurant(
          CAMPAIGNS.decode(in), RECENT.decode(in), CLIENTS.decode(in), CLIENTS.decode(in));
    }
  }

  @Override
  public PCollection<Slice> expand(PCollection<Campaign> released) {
    int shards = this.shards;
    KvCoder<Integer, KV<String, Event>> coder =
        KvCoder.of(VarIntCoder.of(), KvCoder.of(StringUtf8Coder.of(), EventCoder.of()));
    TypeDescriptor<KV<Integer, KV<String, Event>>> type =
        TypeDescriptors.kvs(
            TypeDescriptors.integers(),
            TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptor.of(Event.class)));
    PCollection<KV<Integer, KV<String, Event>>> campaigns =
        released
            .apply(
                "ByRestaurant",
                MapElements.into(type)
                    .via(c -> byShard(c.restaurantId(), Event.released(c), shards)))
            .setCoder(coder);
    PCollection<KV<Integer, KV<String, Event>>> subscribed =
        subscriptions
            .apply(
                "SubscriptionsByRestaurant",
                MapElements.into(type)
                    .via(s -> byShard(s.getKey(), Event.subscribed(s.getValue()), shards)))
            .setCoder(coder);
    return PCollectionList.of(campaigns)
        .and(subscribed)
        .apply("Together", Flatten.pCollections())
        .apply("NotifyOnce", ParDo.of(new LateFn(delivered, clock, recent.getMillis(), sliceSize)))
        .setCoder(Slice.SliceCoder.of());
  }

  /**
   * Per shard of restaurants: each restaurant's {@link Restaurant} in a map, when each next needs
   * looking at ({@code due}), and one timer for the earliest of those. Keyed by restaurant instead,
   * every restaurant that ever had a campaign would be a key of its own with a timer: on the
   * DirectRunner each is a bundle of its own and every timer is scanned on every round, and Beam's
   * Spark runner checks every key it has seen in every micro-batch.
   */
  static final class LateFn extends SparkSafeTimersFn<KV<Integer, KV<String, Event>>, Slice> {
    private static final Logger LOG = LoggerFactory.getLogger(NotifyLateSubscribers.class);

    /** How soon a pair waiting for its campaign's fan-out to be recorded is looked at again. */
    static final long CHECK_MILLIS = 1000;

    /** Clients asked about in one query of the feedback table. */
    static final int CHECK_CHUNK = 10_000;

    @StateId("restaurants")
    private final StateSpec<MapState<String, Restaurant>> restaurantsSpec =
        StateSpecs.map(StringUtf8Coder.of(), RestaurantCoder.of());

    /** Restaurant to the epoch ms it is next looked at. */
    @StateId("due")
    private final StateSpec<ValueState<Map<String, Long>>> dueSpec =
        StateSpecs.value(MapCoder.of(StringUtf8Coder.of(), VarLongCoder.of()));

    @TimerId("check")
    private final TimerSpec checkSpec = TimerSpecs.timer(TimeDomain.PROCESSING_TIME);

    private final Delivered delivered;
    private final Clock clock;
    private final long recentMillis;
    private final int sliceSize;
    private final Counter late = Metrics.counter("notifications", "lateSubscribers");

    LateFn(Delivered delivered, Clock clock, long recentMillis, int sliceSize) {
      this.delivered = delivered;
      this.clock = clock;
      this.recentMillis = recentMillis;
      this.sliceSize = sliceSize;
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, KV<String, Event>> element,
        @StateId("restaurants") MapState<String, Restaurant> restaurants,
        @StateId("due") ValueState<Map<String, Long>> dueState,
        @TimerId("check") Timer check) {
      long now = clock.nowMillis();
      String restaurant = element.getValue().getKey();
      Restaurant held = orNone(restaurants.get(restaurant).read());
      List<Campaign> campaigns = held.campaigns();
      Map<String, Long> recent = new HashMap<>(held.recent());
      Map<String, List<String>> pending = new HashMap<>(held.pending());
      Event event = element.getValue().getValue();
      if (event.campaign() != null) {
        Campaign campaign = event.campaign();
        Campaign known =
            campaigns.stream()
                .filter(c -> c.advCampaignId().equals(campaign.advCampaignId()))
                .findFirst()
                .orElse(null);
        if (known != null && !campaign.supersedes(known)) {
          return;
        }
        if (known == null && campaign.hasEndedBy(Math.floorDiv(now, 1000L))) {
          return;
        }
        campaigns = new ArrayList<>(campaigns);
        if (known != null) {
          // A new version (ScheduleCampaigns.CHANGED): its end and text count from now on; the
          // clients waiting and those notified stay with it.
          campaigns.set(campaigns.indexOf(known), campaign);
        } else {
          campaigns.add(campaign);
          addRecent(pending, recent, campaign, now);
        }
      } else {
        event.clients().forEach(client -> recent.put(client, now));
        for (Campaign campaign : campaigns) {
          if (!campaign.hasEndedBy(Math.floorDiv(now, 1000L))) {
            add(pending, campaign.advCampaignId(), event.clients());
          }
        }
      }
      Map<String, Long> due = new HashMap<>(orEmpty(dueState.read()));
      keep(
          restaurants,
          due,
          restaurant,
          new Restaurant(campaigns, recent, pending, held.notified()),
          now,
          0);
      arm(check, dueState, due, now);
    }

    @OnTimer("check")
    public void onCheck(
        @StateId("restaurants") MapState<String, Restaurant> restaurants,
        @StateId("due") ValueState<Map<String, Long>> dueState,
        @TimerId("check") Timer check,
        OutputReceiver<Slice> out)
        throws InterruptedException {
      if (firedAfterBundle()) {
        // What this check output now would be lost (SparkSafeTimersFn): check in the next one.
        check.offset(Duration.millis(1)).setRelative();
        return;
      }
      long now = clock.nowMillis();
      Map<String, Long> due = new HashMap<>(orEmpty(dueState.read()));
      for (Map.Entry<String, Long> entry : new ArrayList<>(due.entrySet())) {
        if (entry.getValue() > now) {
          continue;
        }
        String restaurant = entry.getKey();
        Restaurant checked =
            check(orNone(restaurants.get(restaurant).read()), now, restaurant, out);
        keep(restaurants, due, restaurant, checked, now, CHECK_MILLIS);
      }
      arm(check, dueState, due, now);
    }

    /**
     * One restaurant's check: the campaigns that ended are let go, and the clients waiting for a
     * campaign whose fan-out is recorded in full are notified unless they have a feedback row.
     */
    private Restaurant check(
        Restaurant held, long now, String restaurant, OutputReceiver<Slice> out)
        throws InterruptedException {
      long nowSecond = Math.floorDiv(now, 1000L);
      List<Campaign> active = new ArrayList<>();
      for (Campaign campaign : held.campaigns()) {
        if (!campaign.hasEndedBy(nowSecond)) {
          active.add(campaign);
        }
      }
      Map<String, Long> recent = new HashMap<>(held.recent());
      recent.values().removeIf(seen -> now - seen > recentMillis);
      Map<String, List<String>> pending = new HashMap<>(held.pending());
      Map<String, List<String>> notified = new HashMap<>(held.notified());
      pending.keySet().retainAll(ids(active));
      notified.keySet().retainAll(ids(active));
      for (Campaign campaign : active) {
        String id = campaign.advCampaignId();
        if (campaign.startEpochSecond() > nowSecond) {
          continue; // its start moved later: the clients wait for it
        }
        List<String> waiting = pending.get(id);
        if (waiting == null || !delivered.finished(id)) {
          continue;
        }
        pending.remove(id);
        Set<String> fresh = new LinkedHashSet<>(waiting);
        fresh.removeAll(new HashSet<>(notified.getOrDefault(id, List.of())));
        List<String> clients = new ArrayList<>();
        List<String> all = new ArrayList<>(fresh);
        for (int from = 0; from < all.size(); from += CHECK_CHUNK) {
          List<String> chunk = all.subList(from, Math.min(all.size(), from + CHECK_CHUNK));
          Set<String> had = delivered.deliveredAmong(id, chunk);
          chunk.stream().filter(c -> !had.contains(c)).forEach(clients::add);
        }
        if (clients.isEmpty()) {
          continue;
        }
        for (List<String> slice : FanOutTurns.slices(clients, sliceSize)) {
          out.output(new Slice(campaign, nowSecond, List.copyOf(slice)));
        }
        List<String> told = new ArrayList<>(notified.getOrDefault(id, List.of()));
        told.addAll(clients);
        notified.put(id, told);
        late.inc(clients.size());
        LOG.info(
            "Campaign {} of restaurant {}: {} late subscriber(s) notified",
            id,
            restaurant,
            clients.size());
      }
      return new Restaurant(active, recent, pending, notified);
    }

    /**
     * Keeps the restaurant's state and notes when it is next due, {@code wait} ms from now at the
     * soonest while pairs wait; forgets it when nothing is held. A pair is first checked at once
     * (0: on the next firing of timers) and then every {@link #CHECK_MILLIS} until its campaign's
     * fan-out is recorded.
     */
    private void keep(
        MapState<String, Restaurant> restaurants,
        Map<String, Long> due,
        String restaurant,
        Restaurant held,
        long now,
        long wait) {
      long next = nextCheck(now, held, wait);
      if (next == Long.MAX_VALUE) {
        SparkSafeMaps.remove(restaurants, restaurant);
        due.remove(restaurant);
      } else {
        restaurants.put(restaurant, held);
        due.put(restaurant, next);
      }
    }

    /** The shard's timer at its earliest due restaurant, or none when none is held. */
    private static void arm(
        Timer check, ValueState<Map<String, Long>> dueState, Map<String, Long> due, long now) {
      if (due.isEmpty()) {
        dueState.clear();
        return;
      }
      dueState.write(due);
      long next = due.values().stream().mapToLong(Long::longValue).min().getAsLong();
      check.offset(Duration.millis(Math.max(1, next - now))).setRelative();
    }

    /**
     * In {@code wait} ms while pairs wait; otherwise at the next campaign's end or the next
     * subscription's expiry. {@link Long#MAX_VALUE} when nothing is held: the restaurant can be
     * forgotten.
     */
    private long nextCheck(long now, Restaurant held, long wait) {
      long next = Long.MAX_VALUE;
      if (!held.pending().isEmpty()) {
        next = now + wait;
      }
      for (Campaign campaign : held.campaigns()) {
        next = Math.min(next, (campaign.endEpochSecond() + 1) * 1000L);
        if (campaign.startEpochSecond() * 1000L > now) {
          next = Math.min(next, campaign.startEpochSecond() * 1000L);
        }
      }
      for (long seen : held.recent().values()) {
        next = Math.min(next, seen + recentMillis + 1);
      }
      return next;
    }

    /** The clients seen subscribing lately wait for a campaign that has just arrived. */
    private void addRecent(
        Map<String, List<String>> pending, Map<String, Long> recent, Campaign campaign, long now) {
      List<String> seen = new ArrayList<>();
      recent.forEach(
          (client, at) -> {
            if (now - at <= recentMillis) {
              seen.add(client);
            }
          });
      add(pending, campaign.advCampaignId(), seen);
    }

    private static void add(
        Map<String, List<String>> pending, String campaignId, List<String> clients) {
      if (clients.isEmpty()) {
        return;
      }
      Set<String> waiting = new LinkedHashSet<>(pending.getOrDefault(campaignId, List.of()));
      waiting.addAll(clients);
      pending.put(campaignId, new ArrayList<>(waiting));
    }

    private static Set<String> ids(List<Campaign> campaigns) {
      Set<String> ids = new LinkedHashSet<>();
      campaigns.forEach(c -> ids.add(c.advCampaignId()));
      return ids;
    }

    private static Restaurant orNone(Restaurant held) {
      return held == null ? Restaurant.NONE : held;
    }

    private static <K, V> Map<K, V> orEmpty(Map<K, V> map) {
      return map == null ? Map.of() : map;
    }
  }
}
