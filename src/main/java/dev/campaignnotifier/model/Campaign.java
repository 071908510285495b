package dev.campaignnotifier.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;

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

  /** Field by field, in declaration order; strings as UTF-8, times as var-longs. */
  public static final class CampaignCoder extends AtomicCoder<Campaign> {
    private static final CampaignCoder INSTANCE = new CampaignCoder();
    private static final StringUtf8Coder STRING = StringUtf8Coder.of();
    private static final VarLongCoder LONG = VarLongCoder.of();

    public static CampaignCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(Campaign c, OutputStream out) throws CoderException, IOException {
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
      return new Campaign(
          STRING.decode(in),
          STRING.decode(in),
          STRING.decode(in),
          STRING.decode(in),
          STRING.decode(in),
          LONG.decode(in),
          LONG.decode(in),
          LONG.decode(in));
    }

    @Override
    public void verifyDeterministic() {}
  }
}
