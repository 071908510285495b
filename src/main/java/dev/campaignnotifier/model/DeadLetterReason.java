package dev.campaignnotifier.model;

/**
 * Why a message could not become a campaign. The names are a stable, documented interface (the
 * docs/contract.md lists them): operators filter and alert on them, so never rename one.
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
  START_AFTER_END,
  /**
   * A text field holds what PostgreSQL's {@code text} cannot store: U+0000 (JSON's <code>&#92;u0000
   * </code>) or half of a surrogate pair (<code>&#92;ud800</code> alone), which is no character at
   * all.
   */
  UNSTORABLE_TEXT,
  /**
   * {@code restaurant_id} or {@code adv_campaign_id} is longer than {@link
   * CampaignParser#MAX_ID_BYTES} bytes in UTF-8: too long for the unique indexes it is a key of.
   */
  ID_TOO_LONG,
  /**
   * PostgreSQL refused a slice's feedback rows with an error no retry can fix (a data exception, a
   * row too large for an index, a constraint): those notifications were not sent. Written by the
   * delivery, not the parser.
   */
  FEEDBACK_REFUSED,
  /**
   * Kafka refused a slice's notifications for good (a record too large for the topic, no right to
   * write to it): those notifications have no row. Written by the delivery, not the parser.
   */
  NOTIFICATION_REFUSED
}
