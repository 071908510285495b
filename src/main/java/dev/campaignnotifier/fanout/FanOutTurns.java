package dev.campaignnotifier.fanout;

import dev.campaignnotifier.campaigns.CampaignVersions;
import dev.campaignnotifier.delivery.Delivered;
import dev.campaignnotifier.delivery.DeliveryLedger;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Clock;
import dev.campaignnotifier.model.Slice;
import dev.campaignnotifier.ops.CampaignProgress;
import dev.campaignnotifier.ops.LiveState;
import dev.campaignnotifier.subscribers.SubscriberReader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every fan-out, made a few slices per turn: where it has got to ({@link Cursor}, the one progress
 * tracker), and one turn (the next {@code slicesPerTurn} slices' worth of clients after the cursor,
 * cut by {@link #slices}, the one slicer). All three ways of fanning out use it: in one call
 * ({@link FanOutToSubscribers.FanOutFn}, its turns one after the other), {@link PacedFanOutFn} (a
 * splittable DoFn, the runner calls again after a resume) and {@link TurnsOnTimerFn} (state and a
 * timer, a turn per micro-batch on Spark); the late subscribers use the slicer.
 */
public final class FanOutTurns implements Serializable {
  private static final Logger LOG = LoggerFactory.getLogger(FanOutToSubscribers.class);

  /** Big fan-outs followed in the log, by fan-out id, on this worker. */
  private static final Map<String, CampaignProgress.Followed> FOLLOWED = new ConcurrentHashMap<>();

  private final Clock clock;
  private final Delivered delivered;
  private final int sliceSize;
  private final int slicesPerTurn;
  private final CampaignVersions versions;
  private final FanOutCounters counters;

  /**
   * @param versions asked before each turn: a campaign changed since its fan-out began is cut with
   *     its newest text, and one that ended early (or whose start moved later) stops
   */
  FanOutTurns(
      Clock clock,
      Delivered delivered,
      CampaignVersions versions,
      int sliceSize,
      int slicesPerTurn) {
    this(clock, delivered, versions, sliceSize, slicesPerTurn, new FanOutCounters());
  }

  private FanOutTurns(
      Clock clock,
      Delivered delivered,
      CampaignVersions versions,
      int sliceSize,
      int slicesPerTurn,
      FanOutCounters counters) {
    this.clock = clock;
    this.delivered = delivered;
    this.versions = versions;
    this.sliceSize = sliceSize;
    this.slicesPerTurn = slicesPerTurn;
    this.counters = counters;
  }

  /**
   * The same turns for a fan-out beside the bundles, on a thread where Beam's metrics count
   * nothing: its counts are added at a bundle's end ({@link #addCountsBeside}).
   */
  FanOutTurns beside() {
    return new FanOutTurns(clock, delivered, versions, sliceSize, slicesPerTurn, counters.beside());
  }

  /** Adds what fan-outs beside the bundles counted to the metrics: on the runner's thread. */
  void addCountsBeside() {
    counters.addBeside();
  }

  /**
   * Where a fan-out has got to: not begun; or begun at {@code trigger} as {@code fanOutId}, its
   * clients handed over up to {@code after}, {@code slices} slices and {@code sent} notifications
   * made of {@code clients} read, {@code checkDelivered} when some had the campaign before; or
   * done.
   */
  record Cursor(
      String fanOutId,
      long trigger,
      String after,
      int slices,
      long sent,
      long clients,
      boolean checkDelivered,
      boolean done)
      implements Serializable {
    static final Cursor START = new Cursor(null, 0, null, 0, 0, 0, false, false);

    boolean begun() {
      return fanOutId != null;
    }

    Cursor finished() {
      return new Cursor(fanOutId, trigger, after, slices, sent, clients, checkDelivered, true);
    }
  }

  /**
   * A cursor field by field, after its format's version ({@code 01}): the fan-out id and the last
   * client (each may be null), the trigger time, the counts, then the two flags in one byte.
   * Explicit rather than Java serialization, whose bytes name the class and so change when it
   * moves; a newer format is refused saying what to do, as the campaign's is.
   */
  static final class CursorCoder extends AtomicCoder<Cursor> {
    private static final long serialVersionUID = 1L;
    private static final CursorCoder INSTANCE = new CursorCoder();
    private static final NullableCoder<String> TEXT = NullableCoder.of(StringUtf8Coder.of());
    private static final int FORMAT = 1;

    static CursorCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(Cursor c, OutputStream out) throws IOException {
      out.write(FORMAT);
      TEXT.encode(c.fanOutId(), out);
      VarLongCoder.of().encode(c.trigger(), out);
      TEXT.encode(c.after(), out);
      VarIntCoder.of().encode(c.slices(), out);
      VarLongCoder.of().encode(c.sent(), out);
      VarLongCoder.of().encode(c.clients(), out);
      out.write((c.checkDelivered() ? 1 : 0) | (c.done() ? 2 : 0));
    }

    @Override
    public Cursor decode(InputStream in) throws IOException {
      int format = in.read();
      if (format != FORMAT) {
        throw new CoderException(
            "A fan-out cursor of format "
                + format
                + ", written by a newer campaign-notifier than this one: start this one without"
                + " the newer one's state (without FLINK_RESTORE on Flink); the replay plan"
                + " completes the fan-out from the delivery ledger");
      }
      String fanOutId = TEXT.decode(in);
      long trigger = VarLongCoder.of().decode(in);
      String after = TEXT.decode(in);
      int slices = VarIntCoder.of().decode(in);
      long sent = VarLongCoder.of().decode(in);
      long clients = VarLongCoder.of().decode(in);
      int flags = in.read();
      if (flags < 0) {
        throw new EOFException("a fan-out cursor ends before its flags");
      }
      return new Cursor(
          fanOutId, trigger, after, slices, sent, clients, (flags & 1) != 0, (flags & 2) != 0);
    }

    @Override
    public void verifyDeterministic() {}
  }

  /**
   * A turn's slices and the cursor after them; {@code stopped} when the campaign changed so that
   * nothing more of this fan-out may be sent (its newest version ended, or starts later).
   */
  record Turn(List<Slice> slices, Cursor next, boolean stopped) {
    Turn(List<Slice> slices, Cursor next) {
      this(slices, next, false);
    }
  }

  /**
   * The cursor of a fan-out that begins now, or a finished one if the campaign is not to be fanned
   * out (ended, or delivered in full before).
   *
   * @param before what an earlier fan-out delivered of the campaign ({@link AskDelivered})
   */
  Cursor begin(Campaign campaign, DeliveryLedger.Before before) {
    long now = clock.nowEpochSecond();
    if (!counters.toFanOut(campaign, now, before)) {
      return Cursor.START.finished();
    }
    boolean someHadIt = before == DeliveryLedger.Before.SOME;
    return new Cursor(UUID.randomUUID().toString(), now, null, 0, 0, 0, someHadIt, false);
  }

  /** Reads the clients after {@code at} and makes the next turn's slices of them. */
  Turn take(Campaign campaign, Cursor at, SubscriberReader reader) throws InterruptedException {
    int turn = clientsPerTurn();
    List<String> read = new ArrayList<>(turn + 1);
    reader.forEachClientAfter(campaign.restaurantId(), at.after(), turn + 1, read::add);
    boolean last = read.size() <= turn;
    return cut(campaign, at, last ? read : read.subList(0, turn), last);
  }

  /** Clients per slice at most. */
  int sliceSize() {
    return sliceSize;
  }

  /** Clients read per turn: {@code slicesPerTurn} slices' worth. */
  int clientsPerTurn() {
    return sliceSize * slicesPerTurn;
  }

  /**
   * The next turn's slices of {@code chunk}, the clients after {@code at} in their order (those
   * that had the campaign left out), and the cursor after them; {@code last} when no client comes
   * after them.
   */
  Turn cut(Campaign campaign, Cursor at, List<String> chunk, boolean last)
      throws InterruptedException {
    Campaign newest = versions.newest(campaign);
    if (newest != campaign && !newest.isActiveAt(clock.nowEpochSecond())) {
      return new Turn(List.of(), at.finished(), true);
    }
    campaign = newest;
    List<String> toSend = chunk;
    if (at.checkDelivered() && !chunk.isEmpty()) {
      Set<String> had = delivered.deliveredAmong(campaign.advCampaignId(), chunk);
      toSend = chunk.stream().filter(c -> !had.contains(c)).toList();
    }
    List<List<String>> clientSlices = slices(toSend, sliceSize);
    if (last && clientSlices.isEmpty() && at.slices() > 0) {
      clientSlices.add(List.of()); // the last slice says how many there were, even when none left
    }
    String after = chunk.isEmpty() ? at.after() : chunk.get(chunk.size() - 1);
    Cursor next =
        new Cursor(
            at.fanOutId(),
            at.trigger(),
            after,
            at.slices() + clientSlices.size(),
            at.sent() + toSend.size(),
            at.clients() + chunk.size(),
            at.checkDelivered(),
            last);
    List<Slice> slices = new ArrayList<>(clientSlices.size());
    for (int i = 0; i < clientSlices.size(); i++) {
      boolean lastSlice = last && i == clientSlices.size() - 1;
      slices.add(
          new Slice(
              campaign,
              next.trigger(),
              new ArrayList<>(clientSlices.get(i)),
              next.fanOutId(),
              at.slices() + i + 1,
              lastSlice ? next.slices() : 0));
    }
    return new Turn(slices, next);
  }

  /**
   * The clients cut into slices of {@code sliceSize} in their order, the last one shorter: the one
   * slicer of every fan-out (in one call or in turns) and of the late subscribers.
   */
  public static List<List<String>> slices(List<String> clients, int sliceSize) {
    List<List<String>> slices = new ArrayList<>(clients.size() / sliceSize + 1);
    for (int from = 0; from < clients.size(); from += sliceSize) {
      slices.add(clients.subList(from, Math.min(clients.size(), from + sliceSize)));
    }
    return slices;
  }

  /**
   * Outputs a turn's slices, then notes the turn: the progress of a big campaign, and at the end of
   * the fan-out its ledger mark (when nobody was left), counters and log line.
   */
  void output(Campaign campaign, Turn turn, Consumer<Slice> out) throws InterruptedException {
    Cursor next = turn.next();
    if (turn.stopped()) {
      FOLLOWED.remove(next.fanOutId());
      counters.stopped();
      LOG.info(
          "Campaign {} of restaurant {} changed (ended early, cancelled or starting later): its"
              + " fan-out stopped after {} slices, {} notifications",
          campaign.advCampaignId(),
          campaign.restaurantId(),
          next.slices(),
          next.sent());
      return;
    }
    for (Slice slice : turn.slices()) {
      LiveState.fannedOut(next.fanOutId(), campaign.endEpochSecond(), slice.clients().size());
      out.accept(slice);
    }
    follow(campaign, next);
    if (!next.done()) {
      return;
    }
    String id = campaign.advCampaignId();
    if (next.sent() == 0) {
      delivered.nothingLeft(id, next.fanOutId());
    }
    counters.fannedOut(next.sent(), next.clients());
    LOG.info(
        "Fanned out campaign {} of restaurant {} to {} subscribers{} ({} slices, {} per turn)",
        id,
        campaign.restaurantId(),
        next.sent(),
        next.clients() == next.sent()
            ? ""
            : "; " + (next.clients() - next.sent()) + " had it already",
        next.slices(),
        slicesPerTurn);
  }

  /** A big campaign's delivery is followed in the log from the ledger, as in one-call fan-outs. */
  private void follow(Campaign campaign, Cursor next) {
    CampaignProgress.Followed progress = FOLLOWED.get(next.fanOutId());
    if (progress == null && next.sent() > CampaignProgress.BIG && delivered.ledger() != null) {
      progress =
          CampaignProgress.follow(
              campaign.advCampaignId(), next.fanOutId(), sliceSize, delivered.ledger());
      FOLLOWED.put(next.fanOutId(), progress);
    }
    if (progress != null) {
      progress.fannedOut(next.sent());
      if (next.done()) {
        progress.finished(next.sent(), next.slices());
        FOLLOWED.remove(next.fanOutId());
      }
    }
  }
}
