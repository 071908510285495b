package dev.campaignnotifier.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.BadInputCorpus;
import dev.campaignnotifier.Samples;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CampaignParserTest {
  private final CampaignParser parser = new CampaignParser(65_536, 4_096);

  private static final String GOOD = BadInputCorpus.GOOD;

  @Test
  void briefSampleParsesFieldForField() {
    CampaignParser.Result result = parser.parse(GOOD.getBytes(StandardCharsets.UTF_8));
    assertTrue(result.isValid(), () -> result.message());
    assertEquals(Samples.briefCampaign(), result.campaign());
    assertNull(result.reason());
  }

  @Test
  void extraFieldsAreIgnored() {
    String json = GOOD.replace("{", "{\"extra\": [1, 2], ");
    assertEquals(Samples.briefCampaign(), parser.parse(utf8(json)).campaign());
  }

  @Test
  void startEqualToEndIsValid() {
    String json = GOOD.replace("2659207116", "1659203516");
    assertTrue(parser.parse(utf8(json)).isValid());
  }

  static Stream<Arguments> badMessages() {
    return BadInputCorpus.cases().stream().map(c -> Arguments.of(c.name(), c.value(), c.reason()));
  }

  @ParameterizedTest(name = "{0} -> {2}")
  @MethodSource("badMessages")
  void badMessageIsRefusedWithItsReason(String name, byte[] value, DeadLetterReason expected) {
    CampaignParser.Result result = parser.parse(value);
    assertFalse(result.isValid(), name);
    assertEquals(
        expected == DeadLetterReason.START_AFTER_END, result.isWithdrawal(), "withdrawal: " + name);
    if (!result.isWithdrawal()) {
      assertNull(result.campaign(), name);
    }
    assertEquals(expected, result.reason(), () -> name + ": " + result.message());
    assertTrue(result.message() != null && !result.message().isBlank(), name);
  }

  @Test
  void messageNamesTheField() {
    CampaignParser.Result result = parser.parse(utf8(remove("adv_campaign_owner_contact")));
    assertEquals("required field adv_campaign_owner_contact is missing", result.message());
  }

  /** The id limit is in UTF-8 bytes: 1,024 of them pass whatever the characters, 1,025 do not. */
  @Test
  void idsAreLimitedByTheirEncodedBytes() {
    String ascii = GOOD.replace(Samples.CAMPAIGN_ID, Samples.randomId(1_024));
    assertTrue(parser.parse(utf8(ascii)).isValid());
    String cyrillic = GOOD.replace(Samples.RESTAURANT, "ж".repeat(512));
    assertTrue(parser.parse(utf8(cyrillic)).isValid());
    String emoji = GOOD.replace(Samples.RESTAURANT, "\uD83C\uDF55".repeat(256));
    assertTrue(parser.parse(utf8(emoji)).isValid(), "four bytes a pizza, 1,024 in all");
    CampaignParser.Result over =
        parser.parse(utf8(GOOD.replace(Samples.RESTAURANT, "ж".repeat(512) + "x")));
    assertEquals(DeadLetterReason.ID_TOO_LONG, over.reason());
    assertEquals(
        "restaurant_id is 1025 bytes in UTF-8, more than the limit of 1024", over.message());
  }

  @Test
  void anEmojiIsStorableAndUPlus0000IsNot() {
    String pizza = GOOD.replace("first campaign", "pizza \\ud83c\\udf55");
    assertTrue(parser.parse(utf8(pizza)).isValid(), pizza);
    CampaignParser.Result nul =
        parser.parse(utf8(GOOD.replace("first campaign", "first\\u0000campaign")));
    assertEquals(DeadLetterReason.UNSTORABLE_TEXT, nul.reason());
    assertEquals(
        "adv_campaign_content holds U+0000 at character 5, which PostgreSQL text cannot store",
        nul.message());
  }

  private static String remove(String field) {
    return BadInputCorpus.remove(field);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
