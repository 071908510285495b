/**
 * The pipeline's stages, one composite {@link org.apache.beam.sdk.transforms.PTransform} per file:
 * parse campaigns (valid ones on, bad ones to dead letters), keep the subscriber snapshot fresh,
 * hold each campaign until it starts (and drop repeats), and fan each one out to its subscribers.
 * None of them does I/O except the snapshot loader, so each can be tested alone with TestPipeline.
 */
package dev.campaignnotifier.transforms;
