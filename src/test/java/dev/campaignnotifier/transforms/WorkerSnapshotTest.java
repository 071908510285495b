package dev.campaignnotifier.transforms;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.campaignnotifier.model.SubscriberSnapshot;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A worker's own snapshot: the first read blocks, a refresh never does. */
class WorkerSnapshotTest {
  @Test
  void aStaleSnapshotKeepsServingWhileItsReplacementIsRead() throws Exception {
    CountDownLatch secondReadMayFinish = new CountDownLatch(1);
    AtomicInteger reads = new AtomicInteger();
    WorkerSnapshot snapshots =
        new WorkerSnapshot(
            "worker-snapshot-test-" + System.nanoTime(),
            () -> {
              int n = reads.incrementAndGet();
              if (n > 1) {
                try {
                  secondReadMayFinish.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
              // Loaded 90 s ago: due for a refresh (one-minute period), still fit to serve.
              return SubscriberSnapshot.builder()
                  .add("r", "client-" + n)
                  .build(System.currentTimeMillis() - 90_000);
            },
            org.joda.time.Duration.standardMinutes(1));

    assertEquals("client-1", snapshots.get().clientsOf("r").get(0), "the first read blocks");
    // The replacement read is now under way and cannot finish: get() must not wait for it.
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> assertEquals("client-1", snapshots.get().clientsOf("r").get(0)));
    secondReadMayFinish.countDown();
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () -> {
          while (!snapshots.get().clientsOf("r").get(0).equals("client-2")) {
            Thread.onSpinWait();
          }
        },
        "the replacement is served once it is read");
  }

  @Test
  void aSnapshotOverTwoPeriodsOldIsReadAgainBeforeItIsUsed() throws Exception {
    AtomicInteger reads = new AtomicInteger();
    WorkerSnapshot snapshots =
        new WorkerSnapshot(
            "worker-snapshot-idle-" + System.nanoTime(),
            () -> {
              int n = reads.incrementAndGet();
              // The first read is from "an hour ago" (an idle spell since); later ones are fresh.
              long loadedAt = System.currentTimeMillis() - (n == 1 ? 3_600_000 : 0);
              return SubscriberSnapshot.builder().add("r", "client-" + n).build(loadedAt);
            },
            org.joda.time.Duration.standardMinutes(1));

    assertEquals("client-1", snapshots.get().clientsOf("r").get(0));
    assertEquals("client-2", snapshots.get().clientsOf("r").get(0), "read again, in the caller");
    assertEquals("client-2", snapshots.get().clientsOf("r").get(0), "and then served");
    assertEquals(2, reads.get());
  }
}
