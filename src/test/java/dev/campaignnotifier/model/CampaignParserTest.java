package dev.campaignnotifier.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.campaignnotifier.Samples;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class CampaignParserTest {
  private final CampaignParser parser = new CampaignParser(65_536, 4_096);

  private static final String GOOD =
      Samples.campaignJson(Samples.CAMPAIGN_ID, Samples.RESTAURANT, 1659203516L, 2659207116L);

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
    return Stream.of(
        Arguments.of("tombstone", null, DeadLetterReason.TOMBSTONE),
        Arguments.of("empty", new byte[0], DeadLetterReason.EMPTY_VALUE),
        Arguments.of(
            "not utf-8",
            new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}'},
            DeadLetterReason.NOT_UTF8),
        Arguments.of("not json", utf8("key:{not json"), DeadLetterReason.NOT_JSON),
        Arguments.of("truncated json", utf8(GOOD.substring(0, 40)), DeadLetterReason.NOT_JSON),
        Arguments.of("two documents", utf8(GOOD + GOOD), DeadLetterReason.NOT_JSON),
        Arguments.of(
            "duplicate key",
            utf8(GOOD.replace("{", "{\"restaurant_id\": \"x\", ")),
            DeadLetterReason.NOT_JSON),
        Arguments.of("whitespace only", utf8("   "), DeadLetterReason.NOT_JSON),
        Arguments.of("array", utf8("[" + GOOD + "]"), DeadLetterReason.NOT_AN_OBJECT),
        Arguments.of("string", utf8("\"campaign\""), DeadLetterReason.NOT_AN_OBJECT),
        Arguments.of("number", utf8("42"), DeadLetterReason.NOT_AN_OBJECT),
        Arguments.of("null", utf8("null"), DeadLetterReason.NOT_AN_OBJECT),
        Arguments.of(
            "missing restaurant_id", utf8(remove("restaurant_id")), DeadLetterReason.MISSING_FIELD),
        Arguments.of(
            "missing adv_campaign_id",
            utf8(remove("adv_campaign_id")),
            DeadLetterReason.MISSING_FIELD),
        Arguments.of(
            "missing adv_campaign_content",
            utf8(remove("adv_campaign_content")),
            DeadLetterReason.MISSING_FIELD),
        Arguments.of(
            "missing adv_campaign_owner",
            utf8(remove("adv_campaign_owner")),
            DeadLetterReason.MISSING_FIELD),
        Arguments.of(
            "missing adv_campaign_owner_contact",
            utf8(remove("adv_campaign_owner_contact")),
            DeadLetterReason.MISSING_FIELD),
        Arguments.of(
            "missing start",
            utf8(remove("adv_campaign_datetime_start")),
            DeadLetterReason.MISSING_FIELD),
        Arguments.of(
            "missing end",
            utf8(remove("adv_campaign_datetime_end")),
            DeadLetterReason.MISSING_FIELD),
        Arguments.of(
            "missing datetime_created",
            utf8(remove("datetime_created")),
            DeadLetterReason.MISSING_FIELD),
        Arguments.of(
            "null restaurant_id", utf8(set("restaurant_id", "null")), DeadLetterReason.NULL_FIELD),
        Arguments.of(
            "null end",
            utf8(set("adv_campaign_datetime_end", "null")),
            DeadLetterReason.NULL_FIELD),
        Arguments.of(
            "string start",
            utf8(set("adv_campaign_datetime_start", "\"1659203516\"")),
            DeadLetterReason.WRONG_TYPE),
        Arguments.of(
            "fraction start",
            utf8(set("adv_campaign_datetime_start", "1659203516.5")),
            DeadLetterReason.WRONG_TYPE),
        Arguments.of(
            "exponent start",
            utf8(set("adv_campaign_datetime_start", "1.6e9")),
            DeadLetterReason.WRONG_TYPE),
        Arguments.of(
            "boolean end",
            utf8(set("adv_campaign_datetime_end", "true")),
            DeadLetterReason.WRONG_TYPE),
        Arguments.of("number id", utf8(set("adv_campaign_id", "123")), DeadLetterReason.WRONG_TYPE),
        Arguments.of(
            "object content", utf8(set("adv_campaign_content", "{}")), DeadLetterReason.WRONG_TYPE),
        Arguments.of(
            "blank restaurant_id", utf8(set("restaurant_id", "\"  \"")), DeadLetterReason.BLANK_ID),
        Arguments.of(
            "empty adv_campaign_id",
            utf8(set("adv_campaign_id", "\"\"")),
            DeadLetterReason.BLANK_ID),
        Arguments.of(
            "start after end",
            utf8(set("adv_campaign_datetime_start", "2659207117")),
            DeadLetterReason.START_AFTER_END),
        Arguments.of(
            "milliseconds",
            utf8(set("adv_campaign_datetime_end", "2659207116000")),
            DeadLetterReason.TIME_OUT_OF_RANGE),
        Arguments.of(
            "negative time",
            utf8(set("datetime_created", "-1")),
            DeadLetterReason.TIME_OUT_OF_RANGE),
        Arguments.of(
            "beyond long",
            utf8(set("datetime_created", "123456789012345678901234567890")),
            DeadLetterReason.TIME_OUT_OF_RANGE),
        Arguments.of(
            "oversized field",
            utf8(set("adv_campaign_content", "\"" + "x".repeat(4_097) + "\"")),
            DeadLetterReason.FIELD_TOO_LARGE),
        Arguments.of(
            "oversized message",
            utf8(GOOD.replace("{", "{\"pad\": \"" + "x".repeat(70_000) + "\", ")),
            DeadLetterReason.MESSAGE_TOO_LARGE));
  }

  @ParameterizedTest(name = "{0} -> {2}")
  @MethodSource("badMessages")
  void badMessageIsRefusedWithItsReason(String name, byte[] value, DeadLetterReason expected) {
    CampaignParser.Result result = parser.parse(value);
    assertNull(result.campaign(), name);
    assertEquals(expected, result.reason(), () -> name + ": " + result.message());
    assertTrue(result.message() != null && !result.message().isBlank(), name);
  }

  @Test
  void messageNamesTheField() {
    CampaignParser.Result result = parser.parse(utf8(remove("adv_campaign_owner_contact")));
    assertEquals("required field adv_campaign_owner_contact is missing", result.message());
  }

  private static String remove(String field) {
    String s = GOOD.replaceAll("\"" + field + "\": (\"[^\"]*\"|\\d+),?", "");
    return s.replace(",}", "}");
  }

  private static String set(String field, String json) {
    return GOOD.replaceAll(
        "\"" + field + "\": (\"[^\"]*\"|\\d+)",
        "\"" + field + "\": " + java.util.regex.Matcher.quoteReplacement(json));
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
