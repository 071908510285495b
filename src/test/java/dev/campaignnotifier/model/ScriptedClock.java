package dev.campaignnotifier.model;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A test clock that answers a scripted sequence of times, one per call, then keeps the last. DoFns
 * are serialized, so the script lives in a static registry under an id the copies share.
 */
public final class ScriptedClock implements Clock {
  private static final Map<String, Deque<Long>> SCRIPTS = new ConcurrentHashMap<>();
  private final String id = UUID.randomUUID().toString();

  /** Each time in epoch seconds. */
  public static ScriptedClock of(long... epochSeconds) {
    ScriptedClock clock = new ScriptedClock();
    Deque<Long> script = new ArrayDeque<>();
    for (long s : epochSeconds) {
      script.add(s * 1000L);
    }
    SCRIPTS.put(clock.id, script);
    return clock;
  }

  @Override
  public long nowMillis() {
    Deque<Long> script = SCRIPTS.get(id);
    synchronized (script) {
      return script.size() > 1 ? script.poll() : script.peek();
    }
  }
}
