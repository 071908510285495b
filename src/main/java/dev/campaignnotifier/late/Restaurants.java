package dev.campaignnotifier.late;

import dev.campaignnotifier.delivery.Delivered;
import dev.campaignnotifier.fanout.FanOutTurns;
import dev.campaignnotifier.late.NotifyLateSubscribers.Event;
import dev.campaignnotifier.late.NotifyLateSubscribers.Restaurant;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Slice;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rules of the late step, whoever holds its records: per restaurant a {@link Restaurant} (its
 * campaigns active now, the clients seen subscribing lately, per campaign the clients waiting to be
 * checked and those notified), and when each restaurant is next looked at ({@code due}, epoch ms).
 * Beam state holds them in {@link NotifyLateSubscribers}; plain maps in {@link LateInDriver}.
 */
final class Restaurants {
  // The late step's lines keep its name on every runner, the Spark driver's thread included.
  private static final Logger LOG = LoggerFactory.getLogger(NotifyLateSubscribers.class);

  /** How soon a pair waiting for its campaign's fan-out to be recorded is looked at again. */
  static final long CHECK_MILLIS = 1000;

  /** Clients asked about in one query of the feedback table. */
  static final int CHECK_CHUNK = 10_000;

  /** Where the records are kept: Beam's map state, or a map. */
  interface Held {
    Restaurant get(String restaurant);

    void put(String restaurant, Restaurant held);

    void remove(String restaurant);
  }

  private final Delivered delivered;
  private final long recentMillis;
  private final int sliceSize;
  private final LongConsumer notified;

  /**
   * @param recentMillis how long a subscription is kept for a campaign not yet active here
   * @param sliceSize most clients per slice made
   * @param notified told how many late subscribers each check notified
   */
  Restaurants(Delivered delivered, long recentMillis, int sliceSize, LongConsumer notified) {
    this.delivered = delivered;
    this.recentMillis = recentMillis;
    this.sliceSize = sliceSize;
    this.notified = notified;
  }

  /**
   * A campaign released (or a newer version of it), or clients who subscribed to the restaurant:
   * the restaurant's record takes it, and is due at once.
   */
  void take(Held held, Map<String, Long> due, String restaurant, Event event, long now) {
    Restaurant before = orNone(held.get(restaurant));
    List<Campaign> campaigns = before.campaigns();
    Map<String, Long> recent = new HashMap<>(before.recent());
    Map<String, List<String>> pending = new HashMap<>(before.pending());
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
    keep(
        held,
        due,
        restaurant,
        new Restaurant(campaigns, recent, pending, before.notified()),
        now,
        0);
  }

  /** Checks every restaurant due by {@code now}; the slices made go to {@code out}. */
  void checkDue(Held held, Map<String, Long> due, long now, Consumer<Slice> out)
      throws InterruptedException {
    for (Map.Entry<String, Long> entry : new ArrayList<>(due.entrySet())) {
      if (entry.getValue() > now) {
        continue;
      }
      String restaurant = entry.getKey();
      Restaurant checked = check(orNone(held.get(restaurant)), now, restaurant, out);
      keep(held, due, restaurant, checked, now, CHECK_MILLIS);
    }
  }

  /**
   * One restaurant's check: the campaigns that ended are let go, and the clients waiting for a
   * campaign whose fan-out is recorded in full are notified unless they have a feedback row.
   */
  private Restaurant check(Restaurant held, long now, String restaurant, Consumer<Slice> out)
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
    Map<String, List<String>> told = new HashMap<>(held.notified());
    pending.keySet().retainAll(ids(active));
    told.keySet().retainAll(ids(active));
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
      fresh.removeAll(new HashSet<>(told.getOrDefault(id, List.of())));
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
        out.accept(new Slice(campaign, nowSecond, List.copyOf(slice)));
      }
      List<String> withThese = new ArrayList<>(told.getOrDefault(id, List.of()));
      withThese.addAll(clients);
      told.put(id, withThese);
      notified.accept(clients.size());
      LOG.info(
          "Campaign {} of restaurant {}: {} late subscriber(s) notified",
          id,
          restaurant,
          clients.size());
    }
    return new Restaurant(active, recent, pending, told);
  }

  /**
   * Keeps the restaurant's record and notes when it is next due, {@code wait} ms from now at the
   * soonest while pairs wait; forgets it when nothing is held. A pair is first checked at once (0:
   * on the next look) and then every {@link #CHECK_MILLIS} until its campaign's fan-out is
   * recorded.
   */
  private void keep(
      Held held, Map<String, Long> due, String restaurant, Restaurant kept, long now, long wait) {
    long next = nextCheck(now, kept, wait);
    if (next == Long.MAX_VALUE) {
      held.remove(restaurant);
      due.remove(restaurant);
    } else {
      held.put(restaurant, kept);
      due.put(restaurant, next);
    }
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
}
