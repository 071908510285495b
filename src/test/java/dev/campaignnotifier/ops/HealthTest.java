package dev.campaignnotifier.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Readiness from scripted checks; the real ones are exercised against servers in OperationsIT. */
class HealthTest {
  private final AtomicReference<String> postgres = new AtomicReference<>();

  @AfterEach
  void forget() {
    LiveState.reset();
  }

  private Health health(Health.Check... more) {
    List<Health.Check> checks = new java.util.ArrayList<>(List.of(postgres::get));
    checks.addAll(List.of(more));
    return new Health(checks, List.of());
  }

  @Test
  void notReadyUntilRunningAndChecked() {
    Health health = health();
    assertEquals(503, health.ready().status());
    assertEquals("not ready:\n- not checked yet\n", health.ready().body());
    health.check();
    assertEquals(
        new Health.Answer(503, "not ready:\n- starting: checking Kafka and PostgreSQL\n"),
        health.ready());
    health.phase("waiting for consumer group g");
    health.check();
    assertEquals(
        new Health.Answer(503, "not ready:\n- waiting for consumer group g\n"), health.ready());
    assertEquals(new Health.Answer(200, "live\n"), health.live());

    health.running(() -> null);
    health.check();
    assertEquals(new Health.Answer(200, "ready\n"), health.ready());
  }

  @Test
  void everyFailingCheckIsNamed() {
    Health health = health(() -> "Kafka unreachable at k:9092: timeout");
    health.running(() -> null);
    postgres.set("PostgreSQL unreachable at jdbc:postgresql://db/de: refused");
    health.check();
    assertEquals(
        new Health.Answer(
            503,
            "not ready:\n- PostgreSQL unreachable at jdbc:postgresql://db/de: refused\n"
                + "- Kafka unreachable at k:9092: timeout\n"),
        health.ready());
    postgres.set(null);
    health.check();
    assertEquals(
        new Health.Answer(503, "not ready:\n- Kafka unreachable at k:9092: timeout\n"),
        health.ready());
  }

  @Test
  void aSliceInDeliveryLongerThanTheThresholdIsStuck() throws Exception {
    long[] now = {0};
    Health.Check delivery = Health.deliveryCheck(TimeUnit.SECONDS.toNanos(120), () -> now[0]);
    Object slice = LiveState.deliveryStarted(0);
    now[0] = TimeUnit.SECONDS.toNanos(120);
    assertEquals(null, delivery.problem());
    now[0] = TimeUnit.SECONDS.toNanos(121);
    assertEquals(
        "delivery stuck: a slice has been in delivery for 121 s (--deliveryStuckAfter is 120 s):"
            + " Kafka or PostgreSQL is not taking notifications",
        delivery.problem());
    LiveState.deliveryEnded(slice);
    assertEquals(null, delivery.problem());
  }
}
