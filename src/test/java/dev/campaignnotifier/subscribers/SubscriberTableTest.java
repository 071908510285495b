package dev.campaignnotifier.subscribers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** COPY's text format, as PostgreSQL writes it, into a snapshot. */
class SubscriberTableTest {
  private static SubscriberSnapshot parse(String... rows) {
    SubscriberSnapshot.Builder builder = SubscriberSnapshot.builder();
    for (String row : rows) {
      SubscriberTable.addTextRow(row.getBytes(StandardCharsets.UTF_8), builder);
    }
    return builder.build(1);
  }

  @Test
  void plainRowsWithTheirNewline() {
    SubscriberSnapshot s = parse("r1\tc2\n", "r1\tc1\n", "r2\tc1\n", "r1\tc2\n");
    assertEquals(List.of("c1", "c2"), s.clientsOf("r1"));
    assertEquals(List.of("c1"), s.clientsOf("r2"));
    assertEquals(4, s.sourceRows());
    assertEquals(3, s.subscriptionCount());
  }

  @Test
  void escapedTabNewlineAndBackslashAreValues() {
    SubscriberSnapshot s = parse("r\\t1\tc\\\\1\n", "r\\t1\tc\\n2\n");
    assertEquals(List.of("c\n2", "c\\1"), s.clientsOf("r\t1"));
  }

  @Test
  void nonAsciiIdsSurvive() {
    assertEquals(List.of("клиент"), parse("ресторан\tклиент\n").clientsOf("ресторан"));
  }

  @Test
  void aRowWithOneColumnIsAnError() {
    assertThrows(IllegalStateException.class, () -> parse("only-one-column\n"));
  }
}
