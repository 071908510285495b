/**
 * The data that flows through the pipeline: a validated {@link
 * dev.campaignnotifier.model.Campaign}, the {@link dev.campaignnotifier.model.Notification} it fans
 * out to in slices ({@link dev.campaignnotifier.model.NotificationBatch}), and the {@link
 * dev.campaignnotifier.model.DeadLetter} a bad message becomes. Every type has an explicit,
 * deterministic coder (no Java serialization), because runners use coders to shuffle, checkpoint
 * and compare state, and a silently non-deterministic coder breaks state keyed by it.
 */
package dev.campaignnotifier.model;
