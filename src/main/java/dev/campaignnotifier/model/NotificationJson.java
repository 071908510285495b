package dev.campaignnotifier.model;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Base64;

/**
 * The JSON the outputs carry. A notification is written field by field in the order the Formats
 * section of docs/contract.md fixes, with times as JSON numbers: a push service may parse it
 * positionally.
 */
public final class NotificationJson {
  private static final JsonFactory FACTORY = new JsonFactory();

  private NotificationJson() {}

  /**
   * The start of a notification's message key, {@code <adv_campaign_id>:<client_id>}, to which the
   * client's id is appended: a consumer recognises a redelivered duplicate by it, and it is the
   * feedback table's unique index too.
   */
  public static String keyPrefix(String campaignId) {
    return campaignId + ":";
  }

  /**
   * The JSON of every notification of one campaign made at one moment: all but the client id is the
   * same, so it is rendered once and each message is two appends and the escaped id. A
   * million-subscriber campaign spent most of its delivery CPU in the JSON generator before this.
   */
  public static Template forSlice(Campaign c, long triggerEpochSecond) {
    String prefix = "{" + campaignFields(c) + ",\"client_id\":";
    String suffix =
        ",\"datetime_created\":"
            + c.createdEpochSecond()
            + ",\"trigger_datetime_created\":"
            + triggerEpochSecond
            + "}";
    return new Template(prefix, suffix);
  }

  /** The campaign's fields from {@code restaurant_id} to {@code adv_campaign_datetime_end}. */
  private static String campaignFields(Campaign c) {
    return "\"restaurant_id\":"
        + quote(c.restaurantId())
        + ",\"adv_campaign_id\":"
        + quote(c.advCampaignId())
        + ",\"adv_campaign_content\":"
        + quote(c.content())
        + ",\"adv_campaign_owner\":"
        + quote(c.owner())
        + ",\"adv_campaign_owner_contact\":"
        + quote(c.ownerContact())
        + ",\"adv_campaign_datetime_start\":"
        + c.startEpochSecond()
        + ",\"adv_campaign_datetime_end\":"
        + c.endEpochSecond();
  }

  /** A JSON string literal, escaped exactly as Jackson's generator escapes it. */
  static String quote(String text) {
    StringBuilder out = new StringBuilder(text.length() + 2).append('"');
    JsonStringEncoder.getInstance().quoteAsString(text, out);
    return out.append('"').toString();
  }

  /** One campaign's notification JSON with the client id left open. */
  public static final class Template {
    private final String prefix;
    private final String suffix;

    private Template(String prefix, String suffix) {
      this.prefix = prefix;
      this.suffix = suffix;
    }

    public String forClient(String clientId) {
      StringBuilder json =
          new StringBuilder(prefix.length() + suffix.length() + clientId.length() + 8);
      json.append(prefix).append('"');
      JsonStringEncoder.getInstance().quoteAsString(clientId, json);
      return json.append('"').append(suffix).toString();
    }
  }

  /**
   * A dead letter: the reason, then the original record. Key and value stay exactly as received: as
   * text when they are valid UTF-8 ({@code "value_encoding":"utf8"}), otherwise base64.
   */
  public static String toJson(DeadLetter d, long failedAtEpochMillis) {
    return toJson(d, true, failedAtEpochMillis);
  }

  /**
   * As {@link #toJson(DeadLetter, long)}; without {@code bytes}, the key and value are {@code null}
   * and {@code key_bytes} and {@code value_bytes} say how long they were: the letter for a
   * dead-letter topic that refused the whole one as too large (a value near the broker's limit,
   * longer still in base64).
   */
  public static String toJson(DeadLetter d, boolean bytes, long failedAtEpochMillis) {
    StringWriter out = new StringWriter(256);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("reason", d.reason().name());
      g.writeStringField("message", d.message());
      g.writeStringField("topic", d.topic());
      g.writeNumberField("partition", d.partition());
      g.writeNumberField("offset", d.offset());
      g.writeNumberField("timestamp", d.timestampMillis());
      writeBytes(g, "key", bytes ? d.key() : null);
      writeBytes(g, "value", bytes ? d.value() : null);
      g.writeNumberField("failed_at", failedAtEpochMillis);
      if (!bytes) {
        g.writeNumberField("key_bytes", d.key() == null ? 0 : d.key().length);
        g.writeNumberField("value_bytes", d.value() == null ? 0 : d.value().length);
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot happen: writing JSON to a StringWriter", e);
    }
    return out.toString();
  }

  /** A campaign in the input topic's format, as the service parsed it: the eight fields. */
  public static String campaignJson(Campaign c) {
    return "{" + campaignFields(c) + ",\"datetime_created\":" + c.createdEpochSecond() + "}";
  }

  /**
   * The dead letter of notifications a sink refused for good: the fields of every dead letter, with
   * the campaign as its value ({@link #campaignJson}, under the campaign id as key) and no source
   * position (partition, offset and timestamp are null: the delivery knows the campaign, not the
   * record it came in), then which sink refused, its error code, the slice and the clients. Without
   * {@code campaign}, the value and the clients are null: the shorter letter for a dead-letter
   * topic that refused the whole one as too large.
   */
  public static String toJson(SinkRefusal r, boolean whole, long failedAtEpochMillis) {
    StringWriter out = new StringWriter(256);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("reason", r.reason().name());
      g.writeStringField("message", r.message());
      g.writeStringField("topic", r.inputTopic());
      g.writeNullField("partition");
      g.writeNullField("offset");
      g.writeNullField("timestamp");
      g.writeStringField("key", r.campaign().advCampaignId());
      g.writeStringField("key_encoding", "utf8");
      if (whole) {
        g.writeStringField("value", campaignJson(r.campaign()));
        g.writeStringField("value_encoding", "utf8");
      } else {
        g.writeNullField("value");
        g.writeNullField("value_encoding");
      }
      g.writeNumberField("failed_at", failedAtEpochMillis);
      g.writeStringField("sink", r.sink());
      g.writeStringField("error_code", r.errorCode());
      g.writeStringField("adv_campaign_id", r.campaign().advCampaignId());
      g.writeNumberField("slice", r.slice());
      g.writeNumberField("clients_refused", r.clients().size());
      if (whole) {
        g.writeArrayFieldStart("clients");
        for (String client : r.clients()) {
          g.writeString(client);
        }
        g.writeEndArray();
      } else {
        g.writeNullField("clients");
      }
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
