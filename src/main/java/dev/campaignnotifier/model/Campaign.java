package dev.campaignnotifier.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.util.VarInt;

/**
 * A restaurant's promotion as it arrived on the input topic, already validated: every field is
 * present and ids are not blank. Times are epoch seconds, as in the brief; the campaign is active
 * while {@code start <= now <= end}, both ends included. One whose end is before its start ({@link
 * #endsBeforeStart}) is a withdrawal: it stands only as a new version of a campaign already known,
 * which it cancels (a restaurant's "end it now" of a campaign still to start).
 */
@DefaultCoder(Campaign.CampaignCoder.class)
public record Campaign(
    String restaurantId,
    String advCampaignId,
    String content,
    String owner,
    String ownerContact,
    long startEpochSecond,
    long endEpochSecond,
    long createdEpochSecond) {

  /**
   * The campaign's text: every {@code String} field of the record but its id, in the record's
   * order, read from the record itself so that a field added later is part of it without being
   * listed anywhere else.
   */
  private static final List<Method> TEXT =
      Arrays.stream(Campaign.class.getRecordComponents())
          .filter(c -> c.getType() == String.class && !c.getName().equals("advCampaignId"))
          .map(RecordComponent::getAccessor)
          .toList();

  /**
   * A fingerprint of the campaign's text ({@link #TEXT}): two versions with the same one say the
   * same thing, so an update is a change of times only. 64-bit FNV-1a over the fields, each ended
   * by a separator; a null field (an optional one added later, left out) adds nothing, so adding
   * one leaves the fingerprints of campaigns without it, and the state that keeps them, as they
   * were. Only {@code String} fields are read: a field of another type must be added here.
   */
  public long textFingerprint() {
    long hash = 0xcbf29ce484222325L;
    for (Method accessor : TEXT) {
      String field;
      try {
        field = (String) accessor.invoke(this);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(e);
      }
      if (field == null) {
        continue;
      }
      for (int i = 0; i < field.length(); i++) {
        hash = (hash ^ field.charAt(i)) * 0x100000001b3L;
      }
      hash = (hash ^ 0xffff) * 0x100000001b3L;
    }
    return hash;
  }

  /** Whether its end is before its start: valid only as a cancellation of an earlier version. */
  public boolean endsBeforeStart() {
    return endEpochSecond < startEpochSecond;
  }

  public boolean hasEndedBy(long nowEpochSecond) {
    return nowEpochSecond > endEpochSecond;
  }

  /** Whether the campaign is active at that second: {@code start <= now <= end}. */
  public boolean isActiveAt(long nowEpochSecond) {
    return startEpochSecond <= nowEpochSecond && !hasEndedBy(nowEpochSecond);
  }

  /**
   * Whether this is a newer version of the same campaign than {@code held} (the same id published
   * again): created later, or created in the same second with other fields, as the one read later.
   * An older or identical version is a repeat.
   */
  public boolean supersedes(Campaign held) {
    return isNewer(createdEpochSecond, held.createdEpochSecond, equals(held));
  }

  /** {@link #supersedes} on a version's creation second and whether it equals the one held. */
  public static boolean isNewer(long created, long heldCreated, boolean sameAsHeld) {
    return created > heldCreated || (created == heldCreated && !sameAsHeld);
  }

  /**
   * Whether this version, arriving as an update, leaves nothing to send: its end is not after
   * {@code nowEpochSecond}, or not after its start (a restaurant's way to call a campaign off).
   */
  public boolean cancelsAt(long nowEpochSecond) {
    return leavesNothing(startEpochSecond, endEpochSecond, nowEpochSecond);
  }

  /** {@link #cancelsAt} on a version's start and end. */
  public static boolean leavesNothing(long start, long end, long nowEpochSecond) {
    return end <= nowEpochSecond || end <= start;
  }

  /**
   * A byte {@code 0}, the format's version, then field by field in declaration order: strings as
   * UTF-8, times as var-longs. Campaigns are kept in runner state (held until their start, in the
   * late step, in Flink's checkpoints and savepoints), so a build must read what an earlier one
   * wrote: {@code CodersGoldenTest} holds each format to its bytes.
   *
   * <p>To add a field: write it after the others under {@link #VERSION} + 1, and read a version-1
   * campaign without it (a default). The first format, written before versions (2026-12-06 and
   * earlier), began with the restaurant id's length, never {@code 0} (a blank id is refused), and
   * is still read. A version newer than this build's is refused with what to do instead.
   */
  public static final class CampaignCoder extends AtomicCoder<Campaign> {
    /**
     * What the coder had before the format had a version: Flink keeps the coder itself, Java
     * serialized, beside the state it wrote, so a build must read an earlier build's coder too.
     */
    private static final long serialVersionUID = 2977821691801934384L;

    /** The format this build writes. */
    static final int VERSION = 1;

    private static final CampaignCoder INSTANCE = new CampaignCoder();
    private static final StringUtf8Coder STRING = StringUtf8Coder.of();
    private static final VarLongCoder LONG = VarLongCoder.of();

    public static CampaignCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(Campaign c, OutputStream out) throws CoderException, IOException {
      out.write(0);
      VarInt.encode(VERSION, out);
      STRING.encode(c.restaurantId(), out);
      STRING.encode(c.advCampaignId(), out);
      STRING.encode(c.content(), out);
      STRING.encode(c.owner(), out);
      STRING.encode(c.ownerContact(), out);
      LONG.encode(c.startEpochSecond(), out);
      LONG.encode(c.endEpochSecond(), out);
      LONG.encode(c.createdEpochSecond(), out);
    }

    @Override
    public Campaign decode(InputStream in) throws CoderException, IOException {
      int first = in.read();
      if (first < 0) {
        throw new java.io.EOFException("no campaign to read");
      }
      String restaurantId;
      if (first == 0) {
        int version = VarInt.decodeInt(in);
        if (version != VERSION) {
          throw new CoderException(
              "A campaign in format "
                  + version
                  + ", written by a newer campaign-notifier than this one (format "
                  + VERSION
                  + "): run the newer version, or start this one without the newer one's state"
                  + " (without FLINK_RESTORE on Flink); the replay plan rebuilds held campaigns"
                  + " from Kafka");
        }
        restaurantId = STRING.decode(in);
      } else {
        restaurantId = firstFormatString(first, in);
      }
      return new Campaign(
          restaurantId,
          STRING.decode(in),
          STRING.decode(in),
          STRING.decode(in),
          STRING.decode(in),
          LONG.decode(in),
          LONG.decode(in),
          LONG.decode(in));
    }

    /** A string of the first format whose length's first var-int byte was already read. */
    private static String firstFormatString(int first, InputStream in) throws IOException {
      long length = first & 0x7f;
      int shift = 7;
      int b = first;
      while ((b & 0x80) != 0) {
        b = in.read();
        if (b < 0 || shift > 28) {
          throw new CoderException("a campaign's restaurant id of no valid length");
        }
        length |= (long) (b & 0x7f) << shift;
        shift += 7;
      }
      byte[] bytes = in.readNBytes((int) length);
      if (bytes.length != length) {
        throw new java.io.EOFException("a campaign's restaurant id cut short");
      }
      return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public void verifyDeterministic() {}
  }
}
