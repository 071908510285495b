package dev.campaignnotifier.fanout;

import org.apache.beam.sdk.transforms.windowing.BoundedWindow;
import org.joda.time.Instant;

/**
 * An element held until its bundle ends, with what its output needs then: a bundle's end has no
 * element of its own to take a timestamp and window from.
 */
record Held<T>(T element, Instant timestamp, BoundedWindow window) {}
