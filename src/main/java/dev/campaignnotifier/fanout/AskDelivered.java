package dev.campaignnotifier.fanout;

import dev.campaignnotifier.delivery.Delivered;
import dev.campaignnotifier.delivery.DeliveryLedger;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Clock;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.joda.time.Instant;

/**
 * Asks the delivery ledger and the feedback table what was delivered before of every campaign of a
 * bundle in one question ({@link Delivered#beforeAmong}), instead of one question per campaign at
 * the start of its fan-out: in a lunch rush of 10,000 small campaigns the fan-out spent most of its
 * time waiting for those round trips and for a pooled connection to make them on. The campaigns are
 * held until the bundle ends, then output with the answer ({@link Asked}); the fan-out decides from
 * it ({@link FanOutTurns#begin}). A campaign that has already ended is not asked about: the fan-out
 * drops it. Where a bundle does not end with its input ({@code RunnerProfile#bundlesEndWithInput}:
 * Flink), each campaign is asked about alone, as it comes.
 */
final class AskDelivered extends DoFn<Campaign, AskDelivered.Asked> {
  /** A campaign and what an earlier fan-out delivered of it. */
  record Asked(Campaign campaign, DeliveryLedger.Before before) {}

  /** The campaign, then the answer as one byte. */
  static final class AskedCoder extends AtomicCoder<Asked> {
    /** As Java first computed it: pinned, since Flink keeps the coder beside its state. */
    private static final long serialVersionUID = -3153613981087336340L;

    private static final AskedCoder INSTANCE = new AskedCoder();
    private static final DeliveryLedger.Before[] ANSWERS = DeliveryLedger.Before.values();

    static AskedCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(Asked asked, OutputStream out) throws IOException {
      Campaign.CampaignCoder.of().encode(asked.campaign(), out);
      out.write(asked.before().ordinal());
    }

    @Override
    public Asked decode(InputStream in) throws IOException {
      Campaign campaign = Campaign.CampaignCoder.of().decode(in);
      int answer = in.read();
      if (answer < 0 || answer >= ANSWERS.length) {
        throw new IOException("not an answer of the delivery ledger: " + answer);
      }
      return new Asked(campaign, ANSWERS[answer]);
    }

    @Override
    public void verifyDeterministic() {}
  }

  private final Delivered delivered;
  private final Clock clock;
  private final boolean perBundle;
  private transient List<Held<Campaign>> bundle;

  /**
   * @param perBundle one question per bundle, the campaigns output as it ends; or one per campaign,
   *     output at once
   */
  AskDelivered(Delivered delivered, Clock clock, boolean perBundle) {
    this.delivered = delivered;
    this.clock = clock;
    this.perBundle = perBundle;
  }

  @StartBundle
  public void startBundle() {
    bundle = new ArrayList<>();
  }

  @ProcessElement
  public void process(
      @Element Campaign campaign,
      @Timestamp Instant timestamp,
      BoundedWindow w,
      OutputReceiver<Asked> out)
      throws InterruptedException {
    if (perBundle) {
      bundle.add(new Held<>(campaign, timestamp, w));
    } else {
      out.output(new Asked(campaign, ask(List.of(campaign)).get(campaign.advCampaignId())));
    }
  }

  @FinishBundle
  public void finishBundle(FinishBundleContext context) throws InterruptedException {
    if (bundle.isEmpty()) {
      return;
    }
    Map<String, DeliveryLedger.Before> answers = ask(bundle.stream().map(Held::element).toList());
    for (Held<Campaign> held : bundle) {
      DeliveryLedger.Before before = answers.get(held.element().advCampaignId());
      context.output(new Asked(held.element(), before), held.timestamp(), held.window());
    }
    bundle = new ArrayList<>();
  }

  /** One question about those of the campaigns that have not ended; NOTHING for the others. */
  private Map<String, DeliveryLedger.Before> ask(List<Campaign> campaigns)
      throws InterruptedException {
    long now = clock.nowEpochSecond();
    List<String> toAsk = new ArrayList<>(campaigns.size());
    for (Campaign campaign : campaigns) {
      if (!campaign.hasEndedBy(now)) {
        toAsk.add(campaign.advCampaignId());
      }
    }
    Map<String, DeliveryLedger.Before> answers = new HashMap<>(delivered.beforeAmong(toAsk));
    for (Campaign campaign : campaigns) {
      answers.putIfAbsent(campaign.advCampaignId(), DeliveryLedger.Before.NOTHING);
    }
    return answers;
  }
}
