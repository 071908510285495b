package dev.campaignnotifier.campaigns;

import dev.campaignnotifier.model.Arrival;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Clock;
import dev.campaignnotifier.model.DeadLetter;
import dev.campaignnotifier.runner.SparkSafeMaps;
import dev.campaignnotifier.runner.SparkSafeTimersFn;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
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
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTag;
import org.apache.beam.sdk.values.TupleTagList;
import org.joda.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets each campaign through once, at the right moment: at once if it is active, at its start if
 * that is still to come (held in state with a processing-time timer), never if it has ended. A
 * campaign id seen before is a repeat and is dropped, so a re-sent or redelivered campaign does not
 * notify anyone twice; that memory is released one second after the campaign's end, which bounds
 * the state by the number of campaigns live at once.
 *
 * <p>The same id published again with other fields is a new version (newer by {@code
 * datetime_created}, or read later in the same second, {@link Campaign#supersedes}), and the newest
 * version counts for everything not yet sent: a held campaign takes its new start, end and text or
 * is cancelled; an active one's change is recorded for the fan-out and the delivery ({@link
 * CampaignVersions}) and output on {@link #CHANGED} for the late subscribers; an active campaign
 * whose start moves later is held again until then. An older version is a repeat; any version after
 * the end is ignored.
 *
 * <p>The state is kept under the shards of {@link CampaignShards}, each holding its campaigns in a
 * map and one timer for the earliest start or end among them, not under one key per campaign: keyed
 * by campaign id, a service running for months on Spark would check millions of long-gone campaigns
 * twice a second.
 */
public final class ScheduleCampaigns extends PTransform<PCollection<Arrival>, PCollectionTuple> {
  /** Campaigns to fan out: each once, when active (again, after a start moved later). */
  public static final TupleTag<Campaign> RELEASED = new TupleTag<>() {};

  /** The newest version of a released campaign that changed (end, text), for the late step. */
  public static final TupleTag<Campaign> CHANGED = new TupleTag<>() {};

  /** Withdrawals of no known campaign ({@link Arrival#letter}): bad input after all. */
  public static final TupleTag<DeadLetter> DEAD_LETTERS = new TupleTag<>() {};

  private final Clock clock;
  private final CampaignVersions versions;
  private final int shards;

  /**
   * @param versions where a new version of a campaign is recorded before anything else sees it
   *     ({@link CampaignVersions#NONE}: the rules in this step only)
   * @param shards the keys the held campaigns are kept under ({@link CampaignShards})
   */
  public ScheduleCampaigns(Clock clock, CampaignVersions versions, int shards) {
    this.clock = clock;
    this.versions = versions;
    this.shards = shards;
  }

  @Override
  public PCollectionTuple expand(PCollection<Arrival> arrivals) {
    PCollectionTuple out =
        arrivals
            .apply(
                "KeyByShard",
                new CampaignShards<>(
                    (Arrival a) -> a.campaign().advCampaignId(), Arrival.ArrivalCoder.of(), shards))
            .apply(
                "HoldUntilStart",
                ParDo.of(new HoldUntilStartFn(clock, versions))
                    .withOutputTags(RELEASED, TupleTagList.of(CHANGED).and(DEAD_LETTERS)));
    out.get(RELEASED).setCoder(Campaign.CampaignCoder.of());
    out.get(CHANGED).setCoder(Campaign.CampaignCoder.of());
    out.get(DEAD_LETTERS).setCoder(DeadLetter.DeadLetterCoder.of());
    return out;
  }

  /**
   * What the step keeps of a released campaign's newest version: its times, and a fingerprint of
   * its text ({@link Campaign#textFingerprint}) that tells a repeat from an update.
   */
  record Released(long start, long end, long created, long fingerprint) {
    static Released of(Campaign c) {
      return new Released(
          c.startEpochSecond(), c.endEpochSecond(), c.createdEpochSecond(), c.textFingerprint());
    }

    /** As {@link Campaign#supersedes}. */
    boolean supersedes(Released held) {
      return Campaign.isNewer(created, held.created, equals(held));
    }

    /**
     * This cancellation as it is remembered until {@code keepUntil}, the latest end any version of
     * the campaign had: a start and end there say "nothing to send" ({@link #cancelsAt}) and make
     * it forgotten only then, so the same cancellation or an older version read meanwhile is
     * ignored, never taken for a new campaign (a withdrawal's own end is already past).
     */
    Released cancelledUntil(long keepUntil) {
      return new Released(keepUntil, keepUntil, created, fingerprint);
    }

    /** As {@link Campaign#cancelsAt}. */
    boolean cancelsAt(long nowEpochSecond) {
      return Campaign.leavesNothing(start, end, nowEpochSecond);
    }

    /** The four numbers as var-longs. */
    static final class ReleasedCoder extends AtomicCoder<Released> {
      /** As Java first computed it: pinned, since Flink keeps the coder beside its state. */
      private static final long serialVersionUID = -7945574765490142406L;

      private static final ReleasedCoder INSTANCE = new ReleasedCoder();
      private static final VarLongCoder LONG = VarLongCoder.of();

      static ReleasedCoder of() {
        return INSTANCE;
      }

      @Override
      public void encode(Released r, OutputStream out) throws IOException {
        LONG.encode(r.start(), out);
        LONG.encode(r.end(), out);
        LONG.encode(r.created(), out);
        LONG.encode(r.fingerprint(), out);
      }

      @Override
      public Released decode(InputStream in) throws IOException {
        return new Released(LONG.decode(in), LONG.decode(in), LONG.decode(in), LONG.decode(in));
      }

      @Override
      public void verifyDeterministic() {}
    }
  }

  /**
   * Per shard: the campaigns held until their start, the campaigns released (the newest version of
   * each, forgotten one second after its end), and one timer set for the earliest moment either map
   * has something to do.
   */
  static final class HoldUntilStartFn extends SparkSafeTimersFn<KV<Integer, Arrival>, Campaign> {
    private static final Logger LOG = LoggerFactory.getLogger(ScheduleCampaigns.class);

    @StateId("held")
    private final StateSpec<MapState<String, Campaign>> heldSpec =
        StateSpecs.map(StringUtf8Coder.of(), Campaign.CampaignCoder.of());

    /**
     * Released campaigns by id, what is needed of their newest version (was {@code released}, id to
     * forget-at): its times and a fingerprint, not the whole campaign, because the DirectRunner
     * copies a key's whole state through its coder at every bundle (whole campaigns here cost a
     * rush much more CPU: docs/performance.md).
     */
    @StateId("releasedVersions")
    private final StateSpec<MapState<String, Released>> releasedSpec =
        StateSpecs.map(StringUtf8Coder.of(), Released.ReleasedCoder.of());

    @StateId("wakeAt")
    private final StateSpec<ValueState<Long>> wakeAtSpec = StateSpecs.value(VarLongCoder.of());

    @TimerId("wake")
    private final TimerSpec wakeSpec = TimerSpecs.timer(TimeDomain.PROCESSING_TIME);

    private final Clock clock;
    private final CampaignVersions versions;
    private final Counter active = Metrics.counter("campaigns", "releasedAtOnce");
    private final Counter held = Metrics.counter("campaigns", "held");
    private final Counter releasedAtStart = Metrics.counter("campaigns", "releasedAtStart");
    private final Counter expired = Metrics.counter("campaigns", "expired");
    private final Counter expiredWhileHeld = Metrics.counter("campaigns", "expiredWhileHeld");
    private final Counter repeats = Metrics.counter("campaigns", "duplicates");
    private final Counter updated = Metrics.counter("campaigns", "updated");
    private final Counter cancelled = Metrics.counter("campaigns", "cancelled");
    private final Counter afterEnd = Metrics.counter("campaigns", "updatesAfterEnd");
    private final Counter refused = Metrics.counter("campaigns", "deadLettered");
    private final Counter notRepeated = Metrics.counter("campaigns", "deadLettersNotRepeated");

    HoldUntilStartFn(Clock clock, CampaignVersions versions) {
      this.clock = clock;
      this.versions = versions;
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, Arrival> element,
        @StateId("held") MapState<String, Campaign> heldState,
        @StateId("releasedVersions") MapState<String, Released> releasedState,
        @StateId("wakeAt") ValueState<Long> wakeAt,
        @TimerId("wake") Timer wake,
        MultiOutputReceiver out)
        throws InterruptedException {
      Campaign campaign = element.getValue().campaign();
      String id = campaign.advCampaignId();
      long now = clock.nowMillis();
      Campaign heldVersion = heldState.get(id).read();
      Released releasedVersion = heldVersion == null ? releasedState.get(id).read() : null;
      Long due;
      if (heldVersion != null || releasedVersion != null) {
        due = change(heldVersion, releasedVersion, campaign, now, heldState, releasedState, out);
      } else {
        due = first(element.getValue(), now, heldState, releasedState, out);
      }
      Long set = wakeAt.read();
      if (due != null && (set == null || due * 1000L < set)) {
        wakeAt(wake, wakeAt, due, now);
      }
    }

    /** A campaign id not held nor released: returns when to wake for it, or null. */
    private Long first(
        Arrival arrival,
        long now,
        MapState<String, Campaign> heldState,
        MapState<String, Released> releasedState,
        MultiOutputReceiver out) {
      Campaign campaign = arrival.campaign();
      String id = campaign.advCampaignId();
      if (campaign.endsBeforeStart()) {
        // A withdrawal of nothing known: the bad campaign its first version would be.
        if (arrival.letter() == null) {
          notRepeated.inc();
        } else {
          refused.inc();
          out.get(DEAD_LETTERS).output(arrival.letter());
        }
        LOG.info(
            "Campaign {} of restaurant {} ends at {}, before its start {}, and cancels no version"
                + " of it{}",
            id,
            campaign.restaurantId(),
            campaign.endEpochSecond(),
            campaign.startEpochSecond(),
            arrival.letter() == null ? " (read again: dead-lettered before)" : ": dead-lettered");
        return null;
      }
      if (campaign.hasEndedBy(Math.floorDiv(now, 1000L))) {
        expired.inc();
        LOG.info(
            "Campaign {} of restaurant {} ended at {}, before it arrived; dropped",
            id,
            campaign.restaurantId(),
            campaign.endEpochSecond());
        return null;
      }
      if (campaign.startEpochSecond() * 1000L <= now) {
        active.inc();
        return release(campaign, releasedState, out);
      }
      held.inc();
      LOG.info(
          "Campaign {} of restaurant {} starts at {}; held until then",
          id,
          campaign.restaurantId(),
          campaign.startEpochSecond());
      heldState.put(id, campaign);
      return campaign.startEpochSecond();
    }

    /**
     * The id is held ({@code heldVersion}) or released ({@code releasedVersion}): a repeat, or a
     * new version that replaces it. Returns when to wake for it, or null.
     */
    private Long change(
        Campaign heldVersion,
        Released releasedVersion,
        Campaign campaign,
        long now,
        MapState<String, Campaign> heldState,
        MapState<String, Released> releasedState,
        MultiOutputReceiver out)
        throws InterruptedException {
      String id = campaign.advCampaignId();
      Released known = heldVersion != null ? Released.of(heldVersion) : releasedVersion;
      Released incoming = Released.of(campaign);
      long second = Math.floorDiv(now, 1000L);
      if (!incoming.supersedes(known)) {
        repeats.inc();
        LOG.info(
            "Campaign {} was already received{}; the repeat is ignored",
            id,
            incoming.equals(known) ? "" : " in a newer version");
        return null;
      }
      if (releasedVersion != null && releasedVersion.cancelsAt(second)) {
        // Ended, or cancelled: nothing is left of it to change until it is forgotten.
        afterEnd.inc();
        LOG.info("Campaign {} changed after its end or cancellation; ignored", id);
        return null;
      }
      // Recorded before anything else sees the version: the fan-out and the delivery read it.
      versions.record(campaign, Math.max(known.end(), campaign.endEpochSecond()));
      boolean cancels = campaign.cancelsAt(second);
      (cancels ? cancelled : updated).inc();
      LOG.info(
          "Campaign {} of restaurant {} {} while {}: {}..{} -> {}..{}{}",
          id,
          campaign.restaurantId(),
          cancels ? "cancelled" : "updated",
          heldVersion != null ? "held" : "active",
          known.start(),
          known.end(),
          campaign.startEpochSecond(),
          campaign.endEpochSecond(),
          incoming.fingerprint() == known.fingerprint() ? "" : ", new text");
      if (heldVersion != null) {
        SparkSafeMaps.remove(heldState, id);
        if (cancels) {
          return rememberCancelled(id, known, incoming, campaign, releasedState);
        }
        if (campaign.startEpochSecond() * 1000L <= now) {
          return release(campaign, releasedState, out);
        }
        heldState.put(id, campaign);
        return campaign.startEpochSecond();
      }
      out.get(CHANGED).output(campaign);
      if (!cancels && campaign.startEpochSecond() * 1000L > now) {
        // Its start moved later: nothing more is sent until then, when it is released again and
        // its fan-out reaches those who have not had it.
        SparkSafeMaps.remove(releasedState, id);
        heldState.put(id, campaign);
        return campaign.startEpochSecond();
      }
      if (cancels) {
        return rememberCancelled(id, known, incoming, campaign, releasedState);
      }
      releasedState.put(id, incoming);
      return campaign.endEpochSecond() + 1;
    }

    /** Remembers a cancellation until the latest end of any version; returns when to forget it. */
    private static long rememberCancelled(
        String id,
        Released known,
        Released incoming,
        Campaign campaign,
        MapState<String, Released> releasedState) {
      long keepUntil = Math.max(known.end(), campaign.endEpochSecond());
      releasedState.put(id, incoming.cancelledUntil(keepUntil));
      return keepUntil + 1;
    }

    @OnTimer("wake")
    public void onWake(
        @StateId("held") MapState<String, Campaign> heldState,
        @StateId("releasedVersions") MapState<String, Released> releasedState,
        @StateId("wakeAt") ValueState<Long> wakeAt,
        @TimerId("wake") Timer wake,
        MultiOutputReceiver out) {
      if (firedAfterBundle()) {
        // A campaign released now would be lost (SparkSafeTimersFn): wake in the next micro-batch.
        wake.offset(Duration.millis(1)).setRelative();
        return;
      }
      long now = clock.nowMillis();
      long second = Math.floorDiv(now, 1000L);
      long next = Long.MAX_VALUE;
      // The ended ones first: a campaign released below is not to be forgotten in the same wake.
      for (Map.Entry<String, Released> e : entries(releasedState)) {
        long forgetAt = e.getValue().end() + 1;
        if (forgetAt * 1000L <= now) {
          // The campaign has ended: nothing can repeat it any more, so forget it.
          releasedState.remove(e.getKey());
        } else {
          next = Math.min(next, forgetAt);
        }
      }
      // Once per wake, not per campaign forgotten, and before release() below puts into it.
      SparkSafeMaps.clearIfEmpty(releasedState);
      for (Map.Entry<String, Campaign> e : entries(heldState)) {
        Campaign campaign = e.getValue();
        if (now < campaign.startEpochSecond() * 1000L) {
          next = Math.min(next, campaign.startEpochSecond());
          continue;
        }
        heldState.remove(e.getKey());
        if (campaign.hasEndedBy(second)) {
          expiredWhileHeld.inc();
          LOG.info("Campaign {} ended while it was held; nothing sent", e.getKey());
          continue;
        }
        releasedAtStart.inc();
        next = Math.min(next, release(campaign, releasedState, out));
      }
      SparkSafeMaps.clearIfEmpty(heldState);
      if (next == Long.MAX_VALUE) {
        wakeAt.clear();
      } else {
        wakeAt(wake, wakeAt, next, now);
      }
    }

    /** A copy of the map's entries, so that the map can be changed while they are gone through. */
    private static <V> List<Map.Entry<String, V>> entries(MapState<String, V> state) {
      List<Map.Entry<String, V>> copy = new ArrayList<>();
      Iterable<Map.Entry<String, V>> entries = state.entries().read();
      if (entries != null) {
        entries.forEach(e -> copy.add(Map.entry(e.getKey(), e.getValue())));
      }
      return copy;
    }

    /** Outputs the campaign and remembers it until its end; returns when to forget it. */
    private static long release(
        Campaign campaign, MapState<String, Released> releasedState, MultiOutputReceiver out) {
      out.get(RELEASED).output(campaign);
      releasedState.put(campaign.advCampaignId(), Released.of(campaign));
      return campaign.endEpochSecond() + 1;
    }

    private static void wakeAt(Timer wake, ValueState<Long> wakeAt, long epochSecond, long now) {
      wake.offset(Duration.millis(Math.max(0, epochSecond * 1000L - now))).setRelative();
      wakeAt.write(epochSecond * 1000L);
    }
  }
}
