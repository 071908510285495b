package dev.campaignnotifier.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.campaignnotifier.Samples;
import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class NotificationJsonTest {
  /** The example notification of docs/contract.md's Formats section, byte for byte. */
  static final String README_EXAMPLE =
      "{\"restaurant_id\":\"123e4567-e89b-12d3-a456-426614174000\",\"adv_campaign_id\":\"123e4567-e89b-12d3-a456-426614174003\",\"adv_campaign_content\":\"first campaign\",\"adv_campaign_owner\":\"Ivanov Ivan Ivanovich\",\"adv_campaign_owner_contact\":\"iiivanov@restaurant.ru\",\"adv_campaign_datetime_start\":1659203516,\"adv_campaign_datetime_end\":2659207116,\"client_id\":\"023e4567-e89b-12d3-a456-426614174000\",\"datetime_created\":1659131516,\"trigger_datetime_created\":1659304828}";

  @Test
  void theReadmeShowsThisExample() throws IOException {
    assertTrue(
        Files.readString(Path.of("docs/contract.md")).contains("\n" + README_EXAMPLE + "\n"));
  }

  @Test
  void notificationIsTheReadmeExampleExactly() {
    Campaign c = Samples.briefCampaign();
    String client = "023e4567-e89b-12d3-a456-426614174000";
    assertEquals(README_EXAMPLE, NotificationJson.forSlice(c, 1659304828L).forClient(client));
    assertEquals(
        "123e4567-e89b-12d3-a456-426614174003:023e4567-e89b-12d3-a456-426614174000",
        NotificationJson.keyPrefix(c.advCampaignId()) + client);
  }

  @Test
  void textIsEscaped() {
    Campaign c = new Campaign("r", "c", "70% off \"today\"\n", "O'Neil", "a\\b", 1, 2, 0);
    String json = NotificationJson.forSlice(c, 1).forClient("x");
    assertEquals(
        "{\"restaurant_id\":\"r\",\"adv_campaign_id\":\"c\",\"adv_campaign_content\":\"70% off \\\"today\\\"\\n\",\"adv_campaign_owner\":\"O'Neil\",\"adv_campaign_owner_contact\":\"a\\\\b\",\"adv_campaign_datetime_start\":1,\"adv_campaign_datetime_end\":2,\"client_id\":\"x\",\"datetime_created\":0,\"trigger_datetime_created\":1}",
        json);
  }

  /**
   * The per-slice template escapes exactly as Jackson's generator does (the format the service has
   * always sent), for every control character, quotes, backslashes, non-ASCII and surrogates.
   */
  @Test
  void sliceTemplateWritesWhatJacksonsGeneratorWrites() throws Exception {
    StringBuilder controls = new StringBuilder();
    for (char ch = 0; ch < 0x20; ch++) {
      controls.append(ch);
    }
    List<String> texts =
        List.of(
            "plain",
            controls.toString(),
            "quote \" backslash \\ slash / tab\t",
            "Ресторан «Ёлка» — 50%",
            "emoji \uD83C\uDF55 and a lone surrogate \uD800 end",
            "\u007F\u0080\u2028\u2029",
            "");
    for (String text : texts) {
      Campaign c = new Campaign(text, "id-" + text, text, text, text, 1, 2, 0);
      assertEquals(jacksonReference(c, text, 7), NotificationJson.forSlice(c, 7).forClient(text));
    }
  }

  private static String jacksonReference(Campaign c, String client, long trigger) throws Exception {
    StringWriter out = new StringWriter();
    try (JsonGenerator g = new JsonFactory().createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("restaurant_id", c.restaurantId());
      g.writeStringField("adv_campaign_id", c.advCampaignId());
      g.writeStringField("adv_campaign_content", c.content());
      g.writeStringField("adv_campaign_owner", c.owner());
      g.writeStringField("adv_campaign_owner_contact", c.ownerContact());
      g.writeNumberField("adv_campaign_datetime_start", c.startEpochSecond());
      g.writeNumberField("adv_campaign_datetime_end", c.endEpochSecond());
      g.writeStringField("client_id", client);
      g.writeNumberField("datetime_created", c.createdEpochSecond());
      g.writeNumberField("trigger_datetime_created", trigger);
      g.writeEndObject();
    }
    return out.toString();
  }

  @Test
  void deadLetterKeepsUtf8AsTextAndOtherBytesAsBase64() {
    DeadLetter d =
        new DeadLetter(
            DeadLetterReason.NOT_UTF8,
            "the value is not valid UTF-8",
            "campaigns",
            2,
            41,
            1700000000000L,
            "k1".getBytes(StandardCharsets.UTF_8),
            new byte[] {(byte) 0xC3, (byte) 0x28});
    assertEquals(
        "{\"reason\":\"NOT_UTF8\",\"message\":\"the value is not valid UTF-8\",\"topic\":\"campaigns\",\"partition\":2,\"offset\":41,\"timestamp\":1700000000000,\"key\":\"k1\",\"key_encoding\":\"utf8\",\"value\":\"wyg=\",\"value_encoding\":\"base64\",\"failed_at\":1700000000123}",
        NotificationJson.toJson(d, 1700000000123L));
  }

  @Test
  void deadLetterOfATombstoneWithoutKeyHasNulls() {
    DeadLetter d =
        new DeadLetter(DeadLetterReason.TOMBSTONE, "no value", "campaigns", 0, 7, 5L, null, null);
    assertEquals(
        "{\"reason\":\"TOMBSTONE\",\"message\":\"no value\",\"topic\":\"campaigns\",\"partition\":0,\"offset\":7,\"timestamp\":5,\"key\":null,\"key_encoding\":null,\"value\":null,\"value_encoding\":null,\"failed_at\":9}",
        NotificationJson.toJson(d, 9L));
  }
}
