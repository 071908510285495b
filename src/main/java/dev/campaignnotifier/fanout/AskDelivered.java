package dev.campaignnotifier.fanout;

import dev.campaignnotifier.delivery.Delivered;
import dev.campaignnotifier.delivery.DeliveryLedger;
import dev.campaignnotifier.model.Campaign;
import dev.campaignnotifier.model.Clock;
import dev.campaignnotifier.subscribers.SubscriberReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
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
 *
 * <p>Given a subscriber reader (lookup mode, a fan-out in one go), the bundle's subscribers are
 * asked about in the same way: the first {@code firstClients} of every restaurant in one query
 * ({@link SubscriberReader#firstClientsOf}), output with each campaign of a restaurant that has no
 * more; the fan-out reads a bigger one's itself. So what is held until the bundle ends is its
 * campaigns and at most {@code firstClients} clients each (the runner holds what a bundle's end
 * outputs until it is done), never a big campaign's subscribers.
 */
final class AskDelivered extends DoFn<Campaign, AskDelivered.Asked> {
  /**
   * A campaign, what an earlier fan-out delivered of it, and, where the bundle's subscribers were
   * asked about too, every subscriber of its restaurant in client order (null: the fan-out reads
   * them, a restaurant with more than the bundle's question reads).
   */
  record Asked(Campaign campaign, DeliveryLedger.Before before, List<String> clients) {
    Asked(Campaign campaign, DeliveryLedger.Before before) {
      this(campaign, before, null);
    }
  }

  /**
   * The campaign, then the answer as one byte, its high bit set when the clients follow: an Asked
   * without clients is encoded as before they were added (Flink keeps it in a fan-out's state).
   */
  static final class AskedCoder extends AtomicCoder<Asked> {
    /** As Java first computed it: pinned, since Flink keeps the coder beside its state. */
    private static final long serialVersionUID = -3153613981087336340L;

    private static final AskedCoder INSTANCE = new AskedCoder();
    private static final DeliveryLedger.Before[] ANSWERS = DeliveryLedger.Before.values();
    private static final int WITH_CLIENTS = 0x80;
    private static final ListCoder<String> CLIENTS = ListCoder.of(StringUtf8Coder.of());

    static AskedCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(Asked asked, OutputStream out) throws IOException {
      Campaign.CampaignCoder.of().encode(asked.campaign(), out);
      if (asked.clients() == null) {
        out.write(asked.before().ordinal());
      } else {
        out.write(asked.before().ordinal() | WITH_CLIENTS);
        CLIENTS.encode(asked.clients(), out);
      }
    }

    @Override
    public Asked decode(InputStream in) throws IOException {
      Campaign campaign = Campaign.CampaignCoder.of().decode(in);
      int read = in.read();
      int answer = read < 0 ? read : read & ~WITH_CLIENTS;
      if (answer < 0 || answer >= ANSWERS.length) {
        throw new IOException("not an answer of the delivery ledger: " + read);
      }
      List<String> clients = (read & WITH_CLIENTS) != 0 ? CLIENTS.decode(in) : null;
      return new Asked(campaign, ANSWERS[answer], clients);
    }

    @Override
    public void verifyDeterministic() {}
  }

  private record Held(Campaign campaign, Instant timestamp, BoundedWindow window) {}

  private final Delivered delivered;
  private final Clock clock;
  private final boolean perBundle;
  private final SubscriberReader subscribers;
  private final int firstClients;
  private transient List<Held> bundle;

  /**
   * @param perBundle one question per bundle, the campaigns output as it ends; or one per campaign,
   *     output at once
   * @param subscribers where the bundle's subscribers are asked about too, per bundle only ({@link
   *     SubscriberReader#firstClientsOf}); null: they are not
   * @param firstClients subscribers read per restaurant in that question: a restaurant with no more
   *     has its clients output with each campaign of it
   */
  AskDelivered(
      Delivered delivered,
      Clock clock,
      boolean perBundle,
      SubscriberReader subscribers,
      int firstClients) {
    this.delivered = delivered;
    this.clock = clock;
    this.perBundle = perBundle;
    this.subscribers = subscribers;
    this.firstClients = firstClients;
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
      bundle.add(new Held(campaign, timestamp, w));
    } else {
      out.output(new Asked(campaign, ask(List.of(campaign)).get(campaign.advCampaignId())));
    }
  }

  @FinishBundle
  public void finishBundle(FinishBundleContext context) throws InterruptedException {
    if (bundle.isEmpty()) {
      return;
    }
    List<Campaign> campaigns = bundle.stream().map(Held::campaign).toList();
    Map<String, DeliveryLedger.Before> answers = ask(campaigns);
    Map<String, List<String>> clients = firstClients(campaigns, answers);
    for (Held held : bundle) {
      Campaign campaign = held.campaign();
      DeliveryLedger.Before before = answers.get(campaign.advCampaignId());
      List<String> all = clients.get(campaign.restaurantId());
      context.output(
          new Asked(campaign, before, all == null || all.size() > firstClients ? null : all),
          held.timestamp(),
          held.window());
    }
    bundle = new ArrayList<>();
  }

  /**
   * The first {@code firstClients + 1} subscribers of the restaurants of the campaigns to fan out
   * (neither ended nor delivered in full), in one question; none without a reader.
   */
  private Map<String, List<String>> firstClients(
      List<Campaign> campaigns, Map<String, DeliveryLedger.Before> answers)
      throws InterruptedException {
    if (subscribers == null) {
      return Map.of();
    }
    long now = clock.nowEpochSecond();
    Set<String> restaurants = new LinkedHashSet<>();
    for (Campaign campaign : campaigns) {
      if (!campaign.hasEndedBy(now)
          && answers.get(campaign.advCampaignId()) != DeliveryLedger.Before.IN_FULL) {
        restaurants.add(campaign.restaurantId());
      }
    }
    return restaurants.isEmpty()
        ? Map.of()
        : subscribers.firstClientsOf(restaurants, firstClients + 1);
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
