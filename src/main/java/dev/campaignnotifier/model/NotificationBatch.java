package dev.campaignnotifier.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.coders.VarLongCoder;

/**
 * Notifications of one campaign to a slice of its subscribers, all made at the same moment: the
 * unit the fan-out hands to the sinks. One element per slice rather than per client keeps a
 * million-subscriber campaign at a few hundred elements (the campaign is not copied per client),
 * lets the slices be delivered in parallel, and is one wait for acknowledgements and one COPY.
 *
 * <p>A fan-out's slice is slice {@code slice} (from 1) of fan-out {@code fanOutId}, and the last
 * one says in {@code ofSlices} how many that fan-out made (0 on the others): see DeliveryLedger.
 */
@DefaultCoder(NotificationBatch.BatchCoder.class)
public record NotificationBatch(
    Campaign campaign,
    long triggerEpochSecond,
    List<String> clients,
    String fanOutId,
    int slice,
    int ofSlices) {

  /**
   * A slice outside any fan-out's ledger (tests, the benchmark's floor): recorded without a ledger
   * row.
   */
  public NotificationBatch(Campaign campaign, long triggerEpochSecond, List<String> clients) {
    this(campaign, triggerEpochSecond, clients, null, 0, 0);
  }

  /** The same slice carrying another version of its campaign (an update's new text or end). */
  public NotificationBatch withCampaign(Campaign newest) {
    return new NotificationBatch(newest, triggerEpochSecond, clients, fanOutId, slice, ofSlices);
  }

  /** The notifications, one per client. */
  public List<Notification> notifications() {
    List<Notification> all = new ArrayList<>(clients.size());
    for (String client : clients) {
      all.add(new Notification(campaign, client, triggerEpochSecond));
    }
    return all;
  }

  public int size() {
    return clients.size();
  }

  /** The campaign, the trigger time, the clients, then the fan-out's ledger fields. */
  public static final class BatchCoder extends AtomicCoder<NotificationBatch> {
    /** As Java first computed it: pinned, since Flink keeps the coder beside its state. */
    private static final long serialVersionUID = -3318427873210591992L;

    private static final BatchCoder INSTANCE = new BatchCoder();
    private static final ListCoder<String> CLIENTS = ListCoder.of(StringUtf8Coder.of());
    private static final NullableCoder<String> FAN_OUT = NullableCoder.of(StringUtf8Coder.of());

    public static BatchCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(NotificationBatch b, OutputStream out) throws IOException {
      Campaign.CampaignCoder.of().encode(b.campaign(), out);
      VarLongCoder.of().encode(b.triggerEpochSecond(), out);
      CLIENTS.encode(b.clients(), out);
      FAN_OUT.encode(b.fanOutId(), out);
      VarIntCoder.of().encode(b.slice(), out);
      VarIntCoder.of().encode(b.ofSlices(), out);
    }

    @Override
    public NotificationBatch decode(InputStream in) throws IOException {
      return new NotificationBatch(
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
