package dev.campaignnotifier.model;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Base64;

/**
 * The JSON the outputs carry. A notification is written field by field in the order {@code
 * CONTRACT.md} fixes, with times as JSON numbers: a push service may parse it positionally.
 */
public final class NotificationJson {
  private static final JsonFactory FACTORY = new JsonFactory();

  private NotificationJson() {}

  public static String toJson(Notification n) {
    Campaign c = n.campaign();
    StringWriter out = new StringWriter(512);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("restaurant_id", c.restaurantId());
      g.writeStringField("adv_campaign_id", c.advCampaignId());
      g.writeStringField("adv_campaign_content", c.content());
      g.writeStringField("adv_campaign_owner", c.owner());
      g.writeStringField("adv_campaign_owner_contact", c.ownerContact());
      g.writeNumberField("adv_campaign_datetime_start", c.startEpochSecond());
      g.writeNumberField("adv_campaign_datetime_end", c.endEpochSecond());
      g.writeStringField("client_id", n.clientId());
      g.writeNumberField("datetime_created", c.createdEpochSecond());
      g.writeNumberField("trigger_datetime_created", n.triggerEpochSecond());
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot happen: writing JSON to a StringWriter", e);
    }
    return out.toString();
  }

  /**
   * A dead letter: the reason, then the original record. Key and value stay exactly as received: as
   * text when they are valid UTF-8 ({@code "value_encoding":"utf8"}), otherwise base64.
   */
  public static String toJson(DeadLetter d, long failedAtEpochMillis) {
    StringWriter out = new StringWriter(256);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("reason", d.reason().name());
      g.writeStringField("message", d.message());
      g.writeStringField("topic", d.topic());
      g.writeNumberField("partition", d.partition());
      g.writeNumberField("offset", d.offset());
      g.writeNumberField("timestamp", d.timestampMillis());
      writeBytes(g, "key", d.key());
      writeBytes(g, "value", d.value());
      g.writeNumberField("failed_at", failedAtEpochMillis);
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot happen: writing JSON to a StringWriter", e);
    }
    return out.toString();
  }

  private static void writeBytes(JsonGenerator g, String field, byte[] bytes) throws IOException {
    if (bytes == null) {
      g.writeNullField(field);
      g.writeNullField(field + "_encoding");
      return;
    }
    String text = Utf8.decodeOrNull(bytes);
    if (text != null) {
      g.writeStringField(field, text);
      g.writeStringField(field + "_encoding", "utf8");
    } else {
      g.writeStringField(field, Base64.getEncoder().encodeToString(bytes));
      g.writeStringField(field + "_encoding", "base64");
    }
  }
}
