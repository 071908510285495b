/**
 * The pipeline's stages, one composite {@link org.apache.beam.sdk.transforms.PTransform} per file:
 * parse campaigns (valid ones on, bad ones to dead letters), hold each campaign until it starts
 * (and drop repeats), and fan each one out to its subscribers (found through {@link
 * dev.campaignnotifier.subscribers.SubscriberSource}). Each can be tested alone with TestPipeline.
 */
package dev.campaignnotifier.transforms;
