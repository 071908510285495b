package dev.campaignnotifier.model;

import java.util.List;

/**
 * Notifications of one slice that a sink refused for good, and why: what becomes a dead letter of
 * the delivery ({@link NotificationJson#toJson(SinkRefusal, boolean, long)}).
 *
 * @param reason {@link DeadLetterReason#FEEDBACK_REFUSED} or {@link
 *     DeadLetterReason#NOTIFICATION_REFUSED}
 * @param sink {@code "postgresql"} or {@code "kafka"}
 * @param errorCode PostgreSQL's SQLState, or the Kafka exception's simple class name
 * @param message the sink's own message, with what it was refusing
 * @param inputTopic the topic the campaign came from
 * @param slice the slice's number in its fan-out (0 for late subscribers' slices)
 */
public record SinkRefusal(
    DeadLetterReason reason,
    String sink,
    String errorCode,
    String message,
    String inputTopic,
    Campaign campaign,
    int slice,
    List<String> clients) {}
