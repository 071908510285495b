package dev.campaignnotifier.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;

/**
 * A slice: the notifications of one campaign to some of its subscribers, all made at the same
 * moment: the unit the fan-out hands to the sinks. One element per slice rather than per client
 * keeps a million-subscriber campaign at a few hundred elements (the campaign is not copied per
 * client), lets the slices be delivered in parallel, and is one wait for acknowledgements and one
 * COPY.
 *
 * <p>A fan-out's slice is slice {@code number} (from 1) of fan-out {@code fanOutId}, and the last
 * one says in {@code ofSlices} how many that fan-out made (0 on the others): see DeliveryLedger.
 */
@DefaultCoder(Slice.SliceCoder.class)
public record Slice(
    Campaign campaign,
    long triggerEpochSecond,
    List<String> clients,
    String fanOutId,
    int number,
    int ofSlices) {

  /**
   * A slice outside any fan-out: a late subscriber's (and the tests'). It is recorded without a
   * ledger row; after a crash its clients are found by their feedback rows instead.
   */
  public Slice(Campaign campaign, long triggerEpochSecond, List<String> clients) {
    this(campaign, triggerEpochSecond, clients, null, 0, 0);
  }

  /** The same slice carrying another version of its campaign (an update's new text or end). */
  public Slice withCampaign(Campaign newest) {
    return new Slice(newest, triggerEpochSecond, clients, fanOutId, number, ofSlices);
  }

  public int size() {
    return clients.size();
  }

  /** The campaign, the trigger time, the clients, then the fan-out's ledger fields. */
  public static final class SliceCoder extends AtomicCoder<Slice> {
    /** As Java first computed it: pinned, since Flink keeps the coder beside its state. */
    private static final long serialVersionUID = -3318427873210591992L;

    private static final SliceCoder INSTANCE = new SliceCoder();
    private static final ListCoder<String> CLIENTS = ListCoder.of(StringUtf8Coder.of());
    private static final NullableCoder<String> FAN_OUT = NullableCoder.of(StringUtf8Coder.of());

    public static SliceCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(Slice b, OutputStream out) throws IOException {
      Campaign.CampaignCoder.of().encode(b.campaign(), out);
      VarLongCoder.of().encode(b.triggerEpochSecond(), out);
      CLIENTS.encode(b.clients(), out);
      FAN_OUT.encode(b.fanOutId(), out);
      VarIntCoder.of().encode(b.number(), out);
      VarIntCoder.of().encode(b.ofSlices(), out);
    }

    @Override
    public Slice decode(InputStream in) throws IOException {
      return new Slice(
          Campaign.CampaignCoder.of().decode(in),
          VarLongCoder.of().decode(in),
          CLIENTS.decode(in),
          FAN_OUT.decode(in),
          VarIntCoder.of().decode(in),
          VarIntCoder.of().decode(in));
    }

    @Override
    public void verifyDeterministic() {}
  }
}
