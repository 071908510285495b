package dev.campaignnotifier.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;

/**
 * One campaign for one subscriber: what both sinks receive. It is computed once and written to
 * Kafka and PostgreSQL from the same element, so the two sinks never disagree on {@code
 * triggerEpochSecond}. Its identity is {@link #key()}, which is also the output message key and the
 * feedback table's unique index.
 */
@DefaultCoder(Notification.NotificationCoder.class)
public record Notification(Campaign campaign, String clientId, long triggerEpochSecond) {

  /** {@code <adv_campaign_id>:<client_id>}: lets a consumer recognise a redelivered duplicate. */
  public String key() {
    return campaign.advCampaignId() + ":" + clientId;
  }

  /** The campaign's fields, then the client and the trigger time. */
  public static final class NotificationCoder extends AtomicCoder<Notification> {
    private static final NotificationCoder INSTANCE = new NotificationCoder();

    public static NotificationCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(Notification n, OutputStream out) throws IOException {
      Campaign.CampaignCoder.of().encode(n.campaign(), out);
      StringUtf8Coder.of().encode(n.clientId(), out);
      VarLongCoder.of().encode(n.triggerEpochSecond(), out);
    }

    @Override
    public Notification decode(InputStream in) throws IOException {
      return new Notification(
          Campaign.CampaignCoder.of().decode(in),
          StringUtf8Coder.of().decode(in),
          VarLongCoder.of().decode(in));
    }

    @Override
    public void verifyDeterministic() {}
  }
}
