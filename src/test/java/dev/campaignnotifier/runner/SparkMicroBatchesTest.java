package dev.campaignnotifier.runner;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.campaignnotifier.ops.LiveState;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class SparkMicroBatchesTest {
  private static final long INTERVAL = 1000;
  private static final long START = 1_800_000_000_000L;

  private final AtomicLong now = new AtomicLong(START);
  private final SparkMicroBatches batches = new SparkMicroBatches(INTERVAL, now::get);
  private final Logger logger = (Logger) LoggerFactory.getLogger(SparkMicroBatches.class);
  private final ListAppender<ILoggingEvent> log = new ListAppender<>();

  @BeforeEach
  void listen() {
    log.start();
    logger.addAppender(log);
  }

  @AfterEach
  void forget() {
    logger.detachAppender(log);
    LiveState.reset();
  }

  @Test
  void theLagIsFromTheBatchTimeToTheBatchsEnd() {
    assertEquals(OptionalLong.empty(), LiveState.microBatchLagMillis());
    batches.completed(START - 700, START - 100);
    assertEquals(OptionalLong.of(600), LiveState.microBatchLagMillis());
    // No end reported: the end is now.
    batches.completed(START - 2500, -1);
    assertEquals(OptionalLong.of(2500), LiveState.microBatchLagMillis());
    assertEquals(List.of(), warnings());
  }

  @Test
  void aDriverFallingBehindIsWarnedAboutOnceAMinute() {
    // 0.5 s further behind every second, as 500 ms batches were on a 2-core machine.
    for (int second = 0; second <= 150; second++) {
      now.set(START + second * 1000L);
      long lag = 1000 + second * 500L;
      batches.completed(now.get() - lag, now.get());
    }
    List<String> warned = warnings();
    // Behind by more than 10 intervals from second 19 on: warned then, at 79 and at 139.
    assertEquals(3, warned.size(), String.join("\n", warned));
    assertTrue(warned.get(0).contains("10 s behind"), warned.get(0));
    assertTrue(warned.get(0).contains("--batchIntervalMillis=1000"), warned.get(0));
    assertEquals(OptionalLong.of(76_000), LiveState.microBatchLagMillis());
  }

  private List<String> warnings() {
    return log.list.stream()
        .filter(e -> e.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }
}
