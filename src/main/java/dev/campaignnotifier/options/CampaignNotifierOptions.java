package dev.campaignnotifier.options;

import org.apache.beam.sdk.options.StreamingOptions;

/**
 * Every option of the service: what {@code --help} lists and the README's options table mirrors.
 */
public interface CampaignNotifierOptions
    extends KafkaOptions,
        DeadLetterOptions,
        JdbcOptions,
        DeliveryOptions,
        SubscriberOptions,
        OperationsOptions,
        StreamingOptions {}
