package dev.campaignnotifier.subscribers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The refresh step's reads, with a hand-run executor (a read "runs" when the test says so) and a
 * scripted clock: a tick never waits for a read, a read starts at most once per refresh period and
 * never twice at once, and a failure is reported once.
 */
class SnapshotLoaderTest {
  private static final long REFRESH = 30_000;

  private final Deque<Runnable> pendingReads = new ArrayDeque<>();
  private final AtomicLong now = new AtomicLong(1_000_000);
  private final AtomicInteger reads = new AtomicInteger();
  private final SnapshotLoader loader = new SnapshotLoader(pendingReads::add, now::get);

  private SubscriberSnapshot read() {
    reads.incrementAndGet();
    return SubscriberSnapshot.builder().add("r", "c" + reads.get()).build(now.get());
  }

  private void runPendingRead() {
    pendingReads.removeFirst().run();
  }

  @Test
  void aTickStartsAReadAndALaterTickPublishesIt() {
    loader.startIfDue(REFRESH, this::read);
    assertTrue(loader.poll().isEmpty(), "nothing to publish while the read runs");
    runPendingRead();
    SnapshotLoader.Outcome outcome = loader.poll().orElseThrow();
    assertEquals(0, outcome.number());
    assertEquals(1, outcome.snapshot().subscriptionCount());
    assertNull(outcome.failure());
    assertTrue(loader.poll().isEmpty(), "an outcome is published once");
  }

  @Test
  void noSecondReadWhileOneRunsNorBeforeTheRefreshPeriod() {
    loader.startIfDue(REFRESH, this::read);
    now.addAndGet(REFRESH * 3);
    loader.startIfDue(REFRESH, this::read);
    assertEquals(1, pendingReads.size(), "one read at a time, however slow");
    runPendingRead();
    loader.poll();
    loader.startIfDue(REFRESH, this::read);
    assertEquals(1, pendingReads.size(), "due: the last read began over a period ago");
    runPendingRead();
    loader.poll();
    now.addAndGet(REFRESH - 1);
    loader.startIfDue(REFRESH, this::read);
    assertTrue(pendingReads.isEmpty(), "not due yet");
    now.addAndGet(1);
    loader.startIfDue(REFRESH, this::read);
    assertEquals(1, pendingReads.size());
    runPendingRead();
    assertEquals(2, loader.poll().orElseThrow().number());
    assertEquals(3, reads.get());
  }

  @Test
  void aFailedReadIsReportedAndTheNextOneIsTriedAtTheNextRefresh() {
    loader.startIfDue(
        REFRESH,
        () -> {
          throw new SQLException("relation does not exist", "42P01");
        });
    runPendingRead();
    SnapshotLoader.Outcome outcome = loader.poll().orElseThrow();
    assertFalse(outcome.failure() == null);
    assertNull(outcome.snapshot());
    now.addAndGet(REFRESH);
    loader.startIfDue(REFRESH, this::read);
    runPendingRead();
    assertEquals(1, loader.poll().orElseThrow().snapshot().subscriptionCount());
  }
}
