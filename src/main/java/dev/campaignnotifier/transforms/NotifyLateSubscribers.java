package dev.campaignnotifier.transforms;

import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.NotificationBatch;
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
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn;
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
 * stamped with the moment of that notification, never after the campaign's end. Per restaurant,
 * Beam state holds the campaigns active now (released by {@link ScheduleCampaigns}, let go at their
 * end) and the subscriptions seen in the last {@code recent} (a subscription can reach this step
 * before the campaign it is late for: the fan-out's reading of the table and the watcher's are not
 * ordered). A pair of campaign and subscription is checked once the campaign's fan-out is recorded
 * in full (the delivery ledger), against the feedback table: a client the fan-out reached, or one
 * notified before, has a row and is skipped; so a subscription made before the start, or removed
 * and made again, is never a second notification. The slices this step makes carry no fan-out id:
 * they are not part of the ledger's count of a fan-out.
 */
public final class NotifyLateSubscribers
    extends PTransform<PCollection<Campaign>, PCollection<NotificationBatch>> {
  private final PCollection<KV<String, List<String>>> subscriptions;
  private final FanOutToSubscribers.Delivered delivered;
  private final Clock clock;
  private final Duration recent;
  private final int sliceSize;

  /**
   * @param subscriptions new (restaurant, client) pairs ({@code WatchSubscriptions})
   * @param recent how long a subscription is kept for a campaign that is not yet active here: more
   *     than the age of the subscriber data a fan-out may read (the snapshot's refresh period)
   * @param sliceSize most clients per slice made ({@code --deliverySliceSize})
   */
  public NotifyLateSubscribers(
      PCollection<KV<String, List<String>>> subscriptions,
      FanOutToSubscribers.Delivered delivered,
      Clock clock,
      Duration recent,
      int sliceSize) {
    this.subscriptions = subscriptions;
    this.delivered = delivered;
    this.clock = clock;
    this.recent = recent;
    this.sliceSize = sliceSize;
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

  @Override
  public PCollection<NotificationBatch> expand(PCollection<Campaign> released) {
    KvCoder<String, Event> coder = KvCoder.of(StringUtf8Coder.of(), EventCoder.of());
    TypeDescriptor<KV<String, Event>> type =
        TypeDescriptors.kvs(TypeDescriptors.strings(), TypeDescriptor.of(Event.class));
    PCollection<KV<String, Event>> campaigns =
        released
            .apply(
                "ByRestaurant",
                MapElements.into(type).via(c -> KV.of(c.restaurantId(), Event.released(c))))
            .setCoder(coder);
    PCollection<KV<String, Event>> subscribed =
        subscriptions
            .apply(
                "SubscriptionsByRestaurant",
                MapElements.into(type).via(s -> KV.of(s.getKey(), Event.subscribed(s.getValue()))))
            .setCoder(coder);
    return PCollectionList.of(campaigns)
        .and(subscribed)
        .apply("Together", Flatten.pCollections())
        .apply("NotifyOnce", ParDo.of(new LateFn(delivered, clock, recent.getMillis(), sliceSize)))
        .setCoder(NotificationBatch.BatchCoder.of());
  }

  static final class LateFn extends DoFn<KV<String, Event>, NotificationBatch> {
    private static final Logger LOG = LoggerFactory.getLogger(NotifyLateSubscribers.class);

    /** How soon a pair waiting for its campaign's fan-out to be recorded is looked at again. */
    static final long CHECK_MILLIS = 1000;

    /** Clients asked about in one query of the feedback table. */
    static final int CHECK_CHUNK = 10_000;

    @StateId("campaigns")
    private final StateSpec<ValueState<List<Campaign>>> campaignsSpec =
        StateSpecs.value(ListCoder.of(Campaign.CampaignCoder.of()));

    /** Client to when it was seen subscribing. */
    @StateId("recent")
    private final StateSpec<ValueState<Map<String, Long>>> recentSpec =
        StateSpecs.value(MapCoder.of(StringUtf8Coder.of(), VarLongCoder.of()));

    /** Campaign id to the clients waiting to be checked for it. */
    @StateId("pending")
    private final StateSpec<ValueState<Map<String, List<String>>>> pendingSpec =
        StateSpecs.value(MapCoder.of(StringUtf8Coder.of(), ListCoder.of(StringUtf8Coder.of())));

    /** Campaign id to the clients this step has notified of it. */
    @StateId("notified")
    private final StateSpec<ValueState<Map<String, List<String>>>> notifiedSpec =
        StateSpecs.value(MapCoder.of(StringUtf8Coder.of(), ListCoder.of(StringUtf8Coder.of())));

    @TimerId("check")
    private final TimerSpec checkSpec = TimerSpecs.timer(TimeDomain.PROCESSING_TIME);

    private final FanOutToSubscribers.Delivered delivered;
    private final Clock clock;
    private final long recentMillis;
    private final int sliceSize;
    private final Counter late = Metrics.counter("notifications", "lateSubscribers");

    LateFn(FanOutToSubscribers.Delivered delivered, Clock clock, long recentMillis, int sliceSize) {
      this.delivered = delivered;
      this.clock = clock;
      this.recentMillis = recentMillis;
      this.sliceSize = sliceSize;
    }

    @ProcessElement
    public void process(
        @Element KV<String, Event> element,
        @StateId("campaigns") ValueState<List<Campaign>> campaignsState,
        @StateId("recent") ValueState<Map<String, Long>> recentState,
        @StateId("pending") ValueState<Map<String, List<String>>> pendingState,
        @StateId("notified") ValueState<Map<String, List<String>>> notifiedState,
        @TimerId("check") Timer check) {
      long now = clock.nowMillis();
      List<Campaign> campaigns = orEmpty(campaignsState.read());
      Map<String, Long> recent = new HashMap<>(orEmpty(recentState.read()));
      Map<String, List<String>> pending = new HashMap<>(orEmpty(pendingState.read()));
      Event event = element.getValue();
      if (event.campaign() != null) {
        Campaign campaign = event.campaign();
        if (campaign.hasEndedBy(Math.floorDiv(now, 1000L))
            || campaigns.stream()
                .anyMatch(c -> c.advCampaignId().equals(campaign.advCampaignId()))) {
          return;
        }
        campaigns = new ArrayList<>(campaigns);
        campaigns.add(campaign);
        List<String> seen = new ArrayList<>();
        recent.forEach(
            (client, at) -> {
              if (now - at <= recentMillis) {
                seen.add(client);
              }
            });
        add(pending, campaign.advCampaignId(), seen);
      } else {
        event.clients().forEach(client -> recent.put(client, now));
        for (Campaign campaign : campaigns) {
          if (!campaign.hasEndedBy(Math.floorDiv(now, 1000L))) {
            add(pending, campaign.advCampaignId(), event.clients());
          }
        }
      }
      campaignsState.write(campaigns);
      recentState.write(recent);
      pendingState.write(pending);
      if (!arm(check, now, campaigns, recent, pending)) {
        forget(campaignsState, recentState, pendingState, notifiedState);
      }
    }

    @OnTimer("check")
    public void onCheck(
        @StateId("campaigns") ValueState<List<Campaign>> campaignsState,
        @StateId("recent") ValueState<Map<String, Long>> recentState,
        @StateId("pending") ValueState<Map<String, List<String>>> pendingState,
        @StateId("notified") ValueState<Map<String, List<String>>> notifiedState,
        @TimerId("check") Timer check,
        OutputReceiver<NotificationBatch> out)
        throws InterruptedException {
      long now = clock.nowMillis();
      long nowSecond = Math.floorDiv(now, 1000L);
      List<Campaign> active = new ArrayList<>();
      for (Campaign campaign : orEmpty(campaignsState.read())) {
        if (!campaign.hasEndedBy(nowSecond)) {
          active.add(campaign);
        }
      }
      Map<String, Long> recent = new HashMap<>(orEmpty(recentState.read()));
      recent.values().removeIf(seen -> now - seen > recentMillis);
      Map<String, List<String>> pending = new HashMap<>(orEmpty(pendingState.read()));
      Map<String, List<String>> notified = new HashMap<>(orEmpty(notifiedState.read()));
      pending.keySet().retainAll(ids(active));
      notified.keySet().retainAll(ids(active));
      for (Campaign campaign : active) {
        String id = campaign.advCampaignId();
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
        for (int from = 0; from < clients.size(); from += sliceSize) {
          out.output(
              new NotificationBatch(
                  campaign,
                  nowSecond,
                  List.copyOf(clients.subList(from, Math.min(clients.size(), from + sliceSize)))));
        }
        List<String> told = new ArrayList<>(notified.getOrDefault(id, List.of()));
        told.addAll(clients);
        notified.put(id, told);
        late.inc(clients.size());
        LOG.info(
            "Campaign {} of restaurant {}: {} late subscriber(s) notified",
            id,
            campaign.restaurantId(),
            clients.size());
      }
      campaignsState.write(active);
      recentState.write(recent);
      pendingState.write(pending);
      notifiedState.write(notified);
      if (!arm(check, now, active, recent, pending)) {
        forget(campaignsState, recentState, pendingState, notifiedState);
      }
    }

    /**
     * Looks again in a second while pairs wait; otherwise at the next campaign's end or the next
     * subscription's expiry. False when nothing is held: the restaurant can be forgotten.
     */
    private boolean arm(
        Timer check,
        long now,
        List<Campaign> campaigns,
        Map<String, Long> recent,
        Map<String, List<String>> pending) {
      long next = Long.MAX_VALUE;
      if (!pending.isEmpty()) {
        next = now + CHECK_MILLIS;
      }
      for (Campaign campaign : campaigns) {
        next = Math.min(next, (campaign.endEpochSecond() + 1) * 1000L);
      }
      for (long seen : recent.values()) {
        next = Math.min(next, seen + recentMillis + 1);
      }
      if (next == Long.MAX_VALUE) {
        return false;
      }
      check.offset(Duration.millis(Math.max(1, next - now))).setRelative();
      return true;
    }

    private static void forget(ValueState<?>... states) {
      for (ValueState<?> state : states) {
        state.clear();
      }
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

    private static <T> List<T> orEmpty(List<T> list) {
      return list == null ? List.of() : list;
    }

    private static <K, V> Map<K, V> orEmpty(Map<K, V> map) {
      return map == null ? Map.of() : map;
    }
  }
}
