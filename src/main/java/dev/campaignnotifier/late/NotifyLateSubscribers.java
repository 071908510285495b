package dev.campaignnotifier.late;

import dev.campaignnotifier.campaigns.CampaignShards;
import dev.campaignnotifier.campaigns.ScheduleCampaigns;
import dev.campaignnotifier.delivery.Delivered;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Clock;
import dev.campaignnotifier.model.Slice;
import dev.campaignnotifier.runner.SparkSafeMaps;
import dev.campaignnotifier.runner.SparkSafeTimersFn;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
    private transient Restaurants rules;

    LateFn(Delivered delivered, Clock clock, long recentMillis, int sliceSize) {
      this.delivered = delivered;
      this.clock = clock;
      this.recentMillis = recentMillis;
      this.sliceSize = sliceSize;
    }

    private Restaurants rules() {
      if (rules == null) {
        rules = new Restaurants(delivered, recentMillis, sliceSize, late::inc);
      }
      return rules;
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, KV<String, Event>> element,
        @StateId("restaurants") MapState<String, Restaurant> restaurants,
        @StateId("due") ValueState<Map<String, Long>> dueState,
        @TimerId("check") Timer check) {
      long now = clock.nowMillis();
      Map<String, Long> due = new HashMap<>(orEmpty(dueState.read()));
      rules()
          .take(
              held(restaurants),
              due,
              element.getValue().getKey(),
              element.getValue().getValue(),
              now);
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
      rules().checkDue(held(restaurants), due, now, out::output);
      arm(check, dueState, due, now);
    }

    /** The shard's map state as the rules' records. */
    private static Restaurants.Held held(MapState<String, Restaurant> restaurants) {
      return new Restaurants.Held() {
        @Override
        public Restaurant get(String restaurant) {
          return restaurants.get(restaurant).read();
        }

        @Override
        public void put(String restaurant, Restaurant held) {
          restaurants.put(restaurant, held);
        }

        @Override
        public void remove(String restaurant) {
          SparkSafeMaps.remove(restaurants, restaurant);
        }
      };
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

    private static <K, V> Map<K, V> orEmpty(Map<K, V> map) {
      return map == null ? Map.of() : map;
    }
  }
}
