package dev.campaignnotifier.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.NullableCoder;

/**
 * A campaign on its way to the schedule, with {@code letter}, the dead letter it is if no version
 * of it is known there: set for a withdrawal ({@link Campaign#endsBeforeStart}, a {@link
 * DeadLetterReason#START_AFTER_END} with the record's own bytes and position), which only cancels a
 * known campaign (a restaurant's "end it now"); null for any other campaign, and for a withdrawal
 * read again by a replay (dead-lettered when first read, if it cancelled nothing then).
 */
@DefaultCoder(Arrival.ArrivalCoder.class)
public record Arrival(Campaign campaign, DeadLetter letter) {

  /** A campaign that stands alone: no letter. */
  public static Arrival of(Campaign campaign) {
    return new Arrival(campaign, null);
  }

  /** The campaign, then the letter or nothing. */
  public static final class ArrivalCoder extends AtomicCoder<Arrival> {
    /** As Java first computed it: pinned, since Flink keeps the coder beside its state. */
    private static final long serialVersionUID = 2839814037302383497L;

    private static final ArrivalCoder INSTANCE = new ArrivalCoder();
    private static final NullableCoder<DeadLetter> LETTER =
        NullableCoder.of(DeadLetter.DeadLetterCoder.of());

    public static ArrivalCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(Arrival w, OutputStream out) throws IOException {
      Campaign.CampaignCoder.of().encode(w.campaign(), out);
      LETTER.encode(w.letter(), out);
    }

    @Override
    public Arrival decode(InputStream in) throws IOException {
      return new Arrival(Campaign.CampaignCoder.of().decode(in), LETTER.decode(in));
    }

    @Override
    public void verifyDeterministic() {}
  }
}
