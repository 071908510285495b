package dev.campaignnotifier;

import dev.campaignnotifier.model.DeadLetterReason;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;

/**
 * Every kind of bad campaign message the service must refuse, each with the reason code it must
 * get. Unit tests feed it to the parser; integration tests publish it to a real broker.
 */
public final class BadInputCorpus {
  /** One bad message: a name for reports, its value bytes (null: tombstone), its reason. */
  public record Case(String name, byte[] value, DeadLetterReason reason) {
    @Override
    public String toString() {
      return name;
    }
  }

  public static final String GOOD =
      Samples.campaignJson(Samples.CAMPAIGN_ID, Samples.RESTAURANT, 1659203516L, 2659207116L);

  private BadInputCorpus() {}

  public static List<Case> cases() {
    return List.of(
        new Case("tombstone", null, DeadLetterReason.TOMBSTONE),
        new Case("empty", new byte[0], DeadLetterReason.EMPTY_VALUE),
        new Case(
            "not utf-8",
            new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}'},
            DeadLetterReason.NOT_UTF8),
        new Case(
            "latin-1 text",
            latin1("{\"adv_campaign_content\": \"café\"}"),
            DeadLetterReason.NOT_UTF8),
        new Case("not json", utf8("key:{not json"), DeadLetterReason.NOT_JSON),
        new Case("truncated json", utf8(GOOD.substring(0, 40)), DeadLetterReason.NOT_JSON),
        new Case("two documents", utf8(GOOD + GOOD), DeadLetterReason.NOT_JSON),
        new Case(
            "duplicate key",
            utf8(GOOD.replace("{", "{\"restaurant_id\": \"x\", ")),
            DeadLetterReason.NOT_JSON),
        new Case("whitespace only", utf8("   "), DeadLetterReason.NOT_JSON),
        new Case("array", utf8("[" + GOOD + "]"), DeadLetterReason.NOT_AN_OBJECT),
        new Case("string", utf8("\"campaign\""), DeadLetterReason.NOT_AN_OBJECT),
        new Case("number", utf8("42"), DeadLetterReason.NOT_AN_OBJECT),
        new Case("null", utf8("null"), DeadLetterReason.NOT_AN_OBJECT),
        new Case(
            "missing restaurant_id", utf8(remove("restaurant_id")), DeadLetterReason.MISSING_FIELD),
        new Case(
            "missing adv_campaign_id",
            utf8(remove("adv_campaign_id")),
            DeadLetterReason.MISSING_FIELD),
        new Case(
            "missing adv_campaign_content",
            utf8(remove("adv_campaign_content")),
            DeadLetterReason.MISSING_FIELD),
        new Case(
            "missing adv_campaign_owner",
            utf8(remove("adv_campaign_owner")),
            DeadLetterReason.MISSING_FIELD),
        new Case(
            "missing adv_campaign_owner_contact",
            utf8(remove("adv_campaign_owner_contact")),
            DeadLetterReason.MISSING_FIELD),
        new Case(
            "missing start",
            utf8(remove("adv_campaign_datetime_start")),
            DeadLetterReason.MISSING_FIELD),
        new Case(
            "missing end",
            utf8(remove("adv_campaign_datetime_end")),
            DeadLetterReason.MISSING_FIELD),
        new Case(
            "missing datetime_created",
            utf8(remove("datetime_created")),
            DeadLetterReason.MISSING_FIELD),
        new Case(
            "null restaurant_id", utf8(set("restaurant_id", "null")), DeadLetterReason.NULL_FIELD),
        new Case(
            "null adv_campaign_id",
            utf8(set("adv_campaign_id", "null")),
            DeadLetterReason.NULL_FIELD),
        new Case(
            "null adv_campaign_content",
            utf8(set("adv_campaign_content", "null")),
            DeadLetterReason.NULL_FIELD),
        new Case(
            "null adv_campaign_owner",
            utf8(set("adv_campaign_owner", "null")),
            DeadLetterReason.NULL_FIELD),
        new Case(
            "null adv_campaign_owner_contact",
            utf8(set("adv_campaign_owner_contact", "null")),
            DeadLetterReason.NULL_FIELD),
        new Case(
            "null start",
            utf8(set("adv_campaign_datetime_start", "null")),
            DeadLetterReason.NULL_FIELD),
        new Case(
            "null end",
            utf8(set("adv_campaign_datetime_end", "null")),
            DeadLetterReason.NULL_FIELD),
        new Case(
            "null datetime_created",
            utf8(set("datetime_created", "null")),
            DeadLetterReason.NULL_FIELD),
        new Case(
            "string start",
            utf8(set("adv_campaign_datetime_start", "\"1659203516\"")),
            DeadLetterReason.WRONG_TYPE),
        new Case(
            "fraction start",
            utf8(set("adv_campaign_datetime_start", "1659203516.5")),
            DeadLetterReason.WRONG_TYPE),
        new Case(
            "integral fraction end",
            utf8(set("adv_campaign_datetime_end", "2659207116.0")),
            DeadLetterReason.WRONG_TYPE),
        new Case(
            "exponent start",
            utf8(set("adv_campaign_datetime_start", "1.6e9")),
            DeadLetterReason.WRONG_TYPE),
        new Case(
            "boolean end",
            utf8(set("adv_campaign_datetime_end", "true")),
            DeadLetterReason.WRONG_TYPE),
        new Case(
            "array created",
            utf8(set("datetime_created", "[1659131516]")),
            DeadLetterReason.WRONG_TYPE),
        new Case("number id", utf8(set("adv_campaign_id", "123")), DeadLetterReason.WRONG_TYPE),
        new Case(
            "number restaurant", utf8(set("restaurant_id", "1.5")), DeadLetterReason.WRONG_TYPE),
        new Case(
            "boolean owner", utf8(set("adv_campaign_owner", "false")), DeadLetterReason.WRONG_TYPE),
        new Case(
            "object content", utf8(set("adv_campaign_content", "{}")), DeadLetterReason.WRONG_TYPE),
        new Case(
            "blank restaurant_id", utf8(set("restaurant_id", "\"  \"")), DeadLetterReason.BLANK_ID),
        new Case(
            "empty adv_campaign_id",
            utf8(set("adv_campaign_id", "\"\"")),
            DeadLetterReason.BLANK_ID),
        new Case(
            "tab adv_campaign_id",
            utf8(set("adv_campaign_id", "\"\\t\"")),
            DeadLetterReason.BLANK_ID),
        new Case(
            "start after end",
            utf8(set("adv_campaign_datetime_start", "2659207117")),
            DeadLetterReason.START_AFTER_END),
        new Case(
            "milliseconds end",
            utf8(set("adv_campaign_datetime_end", "2659207116000")),
            DeadLetterReason.TIME_OUT_OF_RANGE),
        new Case(
            "milliseconds start",
            utf8(set("adv_campaign_datetime_start", "1659203516000")),
            DeadLetterReason.TIME_OUT_OF_RANGE),
        new Case(
            "negative time",
            utf8(set("datetime_created", "-1")),
            DeadLetterReason.TIME_OUT_OF_RANGE),
        new Case(
            "beyond long",
            utf8(set("datetime_created", "123456789012345678901234567890")),
            DeadLetterReason.TIME_OUT_OF_RANGE),
        new Case(
            "oversized field",
            utf8(set("adv_campaign_content", "\"" + "x".repeat(4_097) + "\"")),
            DeadLetterReason.FIELD_TOO_LARGE),
        new Case(
            "oversized id",
            utf8(set("restaurant_id", "\"" + "r".repeat(5_000) + "\"")),
            DeadLetterReason.FIELD_TOO_LARGE),
        new Case(
            "oversized message",
            utf8(GOOD.replace("{", "{\"pad\": \"" + "x".repeat(70_000) + "\", ")),
            DeadLetterReason.MESSAGE_TOO_LARGE),
        new Case(
            "binary garbage",
            new byte[] {0, 1, 2, (byte) 0x80, (byte) 0xFF},
            DeadLetterReason.NOT_UTF8),
        new Case("nul byte json", utf8("{\u0000}"), DeadLetterReason.NOT_JSON),
        new Case(
            "U+0000 in adv_campaign_content",
            utf8(set("adv_campaign_content", "\"50% off\\u0000 today\"")),
            DeadLetterReason.UNSTORABLE_TEXT),
        new Case(
            "U+0000 in adv_campaign_owner",
            utf8(set("adv_campaign_owner", "\"Ivan\\u0000\"")),
            DeadLetterReason.UNSTORABLE_TEXT),
        new Case(
            "U+0000 in adv_campaign_owner_contact",
            utf8(set("adv_campaign_owner_contact", "\"\\u0000\"")),
            DeadLetterReason.UNSTORABLE_TEXT),
        new Case(
            "U+0000 in restaurant_id",
            utf8(set("restaurant_id", "\"r\\u0000\"")),
            DeadLetterReason.UNSTORABLE_TEXT),
        new Case(
            "U+0000 in adv_campaign_id",
            utf8(set("adv_campaign_id", "\"c\\u0000\"")),
            DeadLetterReason.UNSTORABLE_TEXT),
        new Case(
            "unpaired surrogate",
            utf8(set("adv_campaign_content", "\"half \\ud83d of an emoji\"")),
            DeadLetterReason.UNSTORABLE_TEXT),
        new Case(
            "adv_campaign_id of 3,500 random characters",
            utf8(set("adv_campaign_id", "\"" + Samples.randomId(3_500) + "\"")),
            DeadLetterReason.ID_TOO_LONG),
        new Case(
            "restaurant_id of 600 Cyrillic characters (1,200 bytes)",
            utf8(set("restaurant_id", "\"" + "ж".repeat(600) + "\"")),
            DeadLetterReason.ID_TOO_LONG));
  }

  public static String remove(String field) {
    String s = GOOD.replaceAll("\"" + field + "\": (\"[^\"]*\"|\\d+),?", "");
    return s.replace(",}", "}");
  }

  static String set(String field, String json) {
    return GOOD.replaceAll(
        "\"" + field + "\": (\"[^\"]*\"|\\d+)",
        "\"" + field + "\": " + Matcher.quoteReplacement(json));
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] latin1(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }
}
