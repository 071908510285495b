package dev.campaignnotifier.model;

/**
 * Why a message could not become a campaign. The names are a stable, documented interface (the
 * README lists them): operators filter and alert on them, so never rename one.
 */
public enum DeadLetterReason {
  /** The record has no value at all (a Kafka tombstone). */
  TOMBSTONE,
  /** The value is zero bytes long. */
  EMPTY_VALUE,
  /** The value is larger than {@code --maxMessageBytes}. */
  MESSAGE_TOO_LARGE,
  /** The value is not valid UTF-8. */
  NOT_UTF8,
  /** The value is not one well-formed JSON document. */
  NOT_JSON,
  /** The value is JSON, but not an object. */
  NOT_AN_OBJECT,
  /** A required field is absent. */
  MISSING_FIELD,
  /** A required field is JSON null. */
  NULL_FIELD,
  /** A field has the wrong JSON type: a string for a number, a fraction, a boolean, ... */
  WRONG_TYPE,
  /** {@code restaurant_id} or {@code adv_campaign_id} is empty or only whitespace. */
  BLANK_ID,
  /** A text field is longer than {@code --maxFieldChars}. */
  FIELD_TOO_LARGE,
  /** A time is negative or so large it is most likely epoch milliseconds, not seconds. */
  TIME_OUT_OF_RANGE,
  /** {@code adv_campaign_datetime_start} is after {@code adv_campaign_datetime_end}. */
  START_AFTER_END
}
