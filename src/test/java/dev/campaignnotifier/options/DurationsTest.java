package dev.campaignnotifier.options;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {
  @Test
  void acceptsTheDocumentedForms() {
    assertEquals(Duration.millis(500), Durations.parse("x", "500ms"));
    assertEquals(Duration.standardSeconds(30), Durations.parse("x", "30s"));
    assertEquals(Duration.standardMinutes(5), Durations.parse("x", "5m"));
    assertEquals(Duration.standardHours(1), Durations.parse("x", "1h"));
    assertEquals(Duration.standardSeconds(30), Durations.parse("x", "PT30S"));
    assertEquals(Duration.standardHours(24), Durations.parse("x", "PT24H"));
    assertEquals(Duration.standardMinutes(2), Durations.parse("x", "pt2m"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "30", "thirty seconds", "-5s", "0s", "PTxS"})
  void refusesAnythingElseNamingTheOption(String text) {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> Durations.parse("subscribersRefresh", text));
    assertEquals(
        "--subscribersRefresh="
            + text
            + " is not a positive duration such as 500ms, 30s, 5m, 24h or PT30S",
        e.getMessage());
  }
}
