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
 * present, ids are not blank and {@code start <= end}. Times are epoch seconds, as in the brief;
 * the campaign is active while {@code start <= now <= end}, both ends included.
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

  public boolean hasEndedBy(long nowEpochSecond) {
    return nowEpochSecond > endEpochSecond;
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
