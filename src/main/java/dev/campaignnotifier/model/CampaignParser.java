package dev.campaignnotifier.model;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.Serializable;

/**
 * Turns the bytes of a campaign message into a {@link Campaign}, or says exactly why it cannot.
 *
 * <p>It is stricter than a JSON binder on purpose: {@code "start": "1659203516"}, {@code 1.5},
 * {@code true} and a millisecond timestamp are all refused rather than coerced, because a silently
 * coerced time decides whether thousands of users are notified.
 */
public final class CampaignParser implements Serializable {
  private static final long serialVersionUID = 1L;

  /**
   * Epoch seconds above this (the year 5138) are almost certainly epoch milliseconds: 1659203516000
   * is 2022 in milliseconds.
   */
  public static final long MAX_EPOCH_SECOND = 99_999_999_999L;

  /**
   * The most UTF-8 bytes an id may have. Both ids are keys of btree indexes whose entries
   * PostgreSQL limits to 2,704 bytes after its own compression: {@code adv_campaign_id} with {@code
   * client_id} in the feedback table's unique index and with the fan-out id in the ledger's, {@code
   * restaurant_id} with {@code client_id} in the lookup index. 1,024 leaves a client id room for
   * 1,600 bytes, whatever the text (random text does not compress).
   */
  public static final int MAX_ID_BYTES = 1_024;

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);

  private final int maxMessageBytes;
  private final int maxFieldChars;

  public CampaignParser(int maxMessageBytes, int maxFieldChars) {
    this.maxMessageBytes = maxMessageBytes;
    this.maxFieldChars = maxFieldChars;
  }

  /**
   * The outcome of parsing one message: a campaign; a reason and a sentence; or, for a withdrawal
   * (its end before its start), both: a campaign that stands only as a new version of one known
   * already (a restaurant's "end it now"), and is refused with its reason otherwise.
   */
  public record Result(Campaign campaign, DeadLetterReason reason, String message) {
    static Result ok(Campaign campaign) {
      return new Result(campaign, null, null);
    }

    static Result failed(DeadLetterReason reason, String message) {
      return new Result(null, reason, message);
    }

    /** A campaign in every respect. */
    public boolean isValid() {
      return campaign != null && reason == null;
    }

    /**
     * A campaign whose end is before its start ({@link Campaign#endsBeforeStart}): a cancellation
     * if a version of it is known, {@link DeadLetterReason#START_AFTER_END} otherwise.
     */
    public boolean isWithdrawal() {
      return campaign != null && reason != null;
    }
  }

  /** Thrown inside the parser only, to leave a deeply nested check with its reason. */
  private static final class Refused extends Exception {
    final DeadLetterReason reason;

    Refused(DeadLetterReason reason, String message) {
      super(message, null, false, false);
      this.reason = reason;
    }
  }

  public Result parse(byte[] value) {
    try {
      Campaign campaign = parseOrRefuse(value);
      if (campaign.endsBeforeStart()) {
        return new Result(
            campaign,
            DeadLetterReason.START_AFTER_END,
            "adv_campaign_datetime_start "
                + campaign.startEpochSecond()
                + " is after adv_campaign_datetime_end "
                + campaign.endEpochSecond()
                + ", and no earlier version of campaign "
                + campaign.advCampaignId()
                + " is live for it to cancel");
      }
      return Result.ok(campaign);
    } catch (Refused r) {
      return Result.failed(r.reason, r.getMessage());
    }
  }

  private Campaign parseOrRefuse(byte[] value) throws Refused {
    if (value == null) {
      throw new Refused(DeadLetterReason.TOMBSTONE, "the record has no value (tombstone)");
    }
    if (value.length == 0) {
      throw new Refused(DeadLetterReason.EMPTY_VALUE, "the value is empty");
    }
    if (value.length > maxMessageBytes) {
      throw new Refused(
          DeadLetterReason.MESSAGE_TOO_LARGE,
          "the value is " + value.length + " bytes, more than the limit of " + maxMessageBytes);
    }
    String text = decodeUtf8(value);
    JsonNode root;
    try {
      root = JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new Refused(DeadLetterReason.NOT_JSON, "not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || root.isMissingNode()) {
      throw new Refused(DeadLetterReason.NOT_JSON, "not valid JSON: no content");
    }
    if (!root.isObject()) {
      throw new Refused(
          DeadLetterReason.NOT_AN_OBJECT,
          "expected a JSON object, got " + root.getNodeType().name().toLowerCase());
    }
    String restaurantId = id(root, "restaurant_id");
    String campaignId = id(root, "adv_campaign_id");
    String content = text(root, "adv_campaign_content");
    String owner = text(root, "adv_campaign_owner");
    String contact = text(root, "adv_campaign_owner_contact");
    long start = epochSecond(root, "adv_campaign_datetime_start");
    long end = epochSecond(root, "adv_campaign_datetime_end");
    long created = epochSecond(root, "datetime_created");
    return new Campaign(restaurantId, campaignId, content, owner, contact, start, end, created);
  }

  private static String decodeUtf8(byte[] value) throws Refused {
    String text = Utf8.decodeOrNull(value);
    if (text == null) {
      throw new Refused(DeadLetterReason.NOT_UTF8, "the value is not valid UTF-8");
    }
    return text;
  }

  private static JsonNode required(JsonNode root, String field) throws Refused {
    JsonNode node = root.get(field);
    if (node == null) {
      throw new Refused(DeadLetterReason.MISSING_FIELD, "required field " + field + " is missing");
    }
    if (node.isNull()) {
      throw new Refused(DeadLetterReason.NULL_FIELD, "required field " + field + " is null");
    }
    return node;
  }

  private String text(JsonNode root, String field) throws Refused {
    JsonNode node = required(root, field);
    if (!node.isTextual()) {
      throw new Refused(
          DeadLetterReason.WRONG_TYPE,
          field + " must be a string, got " + node.getNodeType().name().toLowerCase());
    }
    String value = node.textValue();
    if (value.length() > maxFieldChars) {
      throw new Refused(
          DeadLetterReason.FIELD_TOO_LARGE,
          field + " is " + value.length() + " characters, more than the limit of " + maxFieldChars);
    }
    String unstorable = unstorable(value);
    if (unstorable != null) {
      throw new Refused(
          DeadLetterReason.UNSTORABLE_TEXT,
          field + " holds " + unstorable + ", which PostgreSQL text cannot store");
    }
    return value;
  }

  /**
   * What in the text PostgreSQL cannot store, or null: U+0000 (refused with SQLState 22021), or a
   * surrogate without its pair, which UTF-8 cannot encode (Java would send a '?' in its place).
   */
  static String unstorable(String text) {
    for (int i = 0; i < text.length(); i++) {
      char ch = text.charAt(i);
      if (ch == 0) {
        return "U+0000 at character " + i;
      }
      if (Character.isHighSurrogate(ch)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(ch)) {
        return String.format("an unpaired surrogate U+%04X at character %d", (int) ch, i);
      }
    }
    return null;
  }

  private String id(JsonNode root, String field) throws Refused {
    String value = text(root, field);
    if (value.isBlank()) {
      throw new Refused(DeadLetterReason.BLANK_ID, field + " is blank");
    }
    int bytes = Utf8.encodedLength(value);
    if (bytes > MAX_ID_BYTES) {
      throw new Refused(
          DeadLetterReason.ID_TOO_LONG,
          field + " is " + bytes + " bytes in UTF-8, more than the limit of " + MAX_ID_BYTES);
    }
    return value;
  }

  private static long epochSecond(JsonNode root, String field) throws Refused {
    JsonNode node = required(root, field);
    if (!node.isIntegralNumber()) {
      String got =
          node.isNumber() ? "a fraction (" + node.asText() + ")" : node.getNodeType().name();
      throw new Refused(
          DeadLetterReason.WRONG_TYPE,
          field + " must be an integer of epoch seconds, got " + got.toLowerCase());
    }
    if (!node.canConvertToLong() || node.longValue() < 0 || node.longValue() > MAX_EPOCH_SECOND) {
      throw new Refused(
          DeadLetterReason.TIME_OUT_OF_RANGE,
          field
              + " = "
              + node.asText()
              + " is not epoch seconds between 0 and "
              + MAX_EPOCH_SECOND
              + " (epoch milliseconds?)");
    }
    return node.longValue();
  }
}
