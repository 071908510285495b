/**
 * The data that flows through the pipeline: a validated {@link dev.campaignnotifier.model.Campaign}
 * (with its parser and the JSON its notifications carry), the {@link
 * dev.campaignnotifier.model.Slice}s it fans out to, and the {@link
 * dev.campaignnotifier.model.DeadLetter} a bad message becomes; and the {@link
 * dev.campaignnotifier.model.Clock} the time rules read. Every type has an explicit, deterministic
 * coder (no Java serialization), because runners use coders to shuffle, checkpoint and compare
 * state, and a silently non-deterministic coder breaks state keyed by it.
 */
package dev.campaignnotifier.model;
